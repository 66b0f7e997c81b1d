"""A batch of risk inputs seen as columns, built lazily: only the fields rules and models use.

Rules and the model evaluate on columns, one array per field. A consignment field has one value per
consignment; an item field has one value per item row (`item_owner` says whose). Asking for a
consignment field at item level broadcasts it, so a rule can mix both and mean "some item of the
consignment satisfies all conditions".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from clearway.domain.filing import FilingDocument, Item, Party
from clearway.domain.ports import RiskInput

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SPACES = re.compile(r"[^0-9A-Z]+")


def normalise_name(name: str | None) -> str:
    """Upper case, punctuation to single spaces: the key a party name is compared by."""
    if not name:
        return ""
    return _normalised(name)


@lru_cache(maxsize=1 << 16)
def _normalised(name: str) -> str:  # names and descriptions repeat from batch to batch
    return _SPACES.sub(" ", name.upper()).strip()


def party_key(party: Party | None) -> str:
    """History key of a party: its identifier when given, else its normalised name."""
    if party is None:
        return ""
    if party.identifier:
        return party.identifier.strip().upper()
    return normalise_name(party.name)


def identity_key(party: Party | None) -> str:
    """Who a party is for same-day totals: name, postcode and country, normalised.

    Same text as the `consignee_key` / `seller_key` columns the storage writes, so a history
    provider can find a consignee's earlier parcels of the day through its index.
    """
    if party is None or not party.name:
        return ""
    return _identity(party.name, party.postcode, party.country)


@lru_cache(maxsize=1 << 16)
def _identity(name: str, postcode: str | None, country: str | None) -> str:
    spaced = " ".join(name.lower().split())
    return f"{spaced}|{(postcode or '').replace(' ', '').lower()}|{(country or '').upper()}"


def description_key(text: str | None) -> str:
    """A goods description as a history key: normalised like a party name."""
    return normalise_name(text)


def _f(value: Decimal | int | None) -> float:
    return float(value) if value is not None else float("nan")


def _party(attr: str, part: str) -> Callable[[RiskInput], object]:
    def get(r: RiskInput) -> object:
        p: Party | None = getattr(r.document, attr)
        return (getattr(p, part) or "") if p is not None else ""

    return get


def _value_dest(r: RiskInput) -> float:
    return float(r.assessment.intrinsic_value) if r.assessment is not None else float("nan")


# Consignment-level fields: name -> getter on one input.
CONSIGNMENT_FIELDS: dict[str, Callable[[RiskInput], object]] = {
    "consignment_id": lambda r: r.consignment_id,
    "data_set": lambda r: r.document.data_set,
    "mode": lambda r: r.document.mode,
    "destination_country": lambda r: r.document.destination_country,
    "dispatch_country": lambda r: r.document.dispatch_country or "",
    "route": lambda r: f"{r.document.dispatch_country or ''}-{r.document.destination_country}",
    "category": lambda r: r.document.category,
    "currency": lambda r: r.document.currency,
    "dest_currency": lambda r: r.assessment.currency if r.assessment else r.document.currency,
    "legal_date": lambda r: r.legal_date.isoformat(),
    "office": lambda r: r.document.office or "",
    "collection_model": lambda r: r.document.collection_model,
    "registration_number": lambda r: (
        (r.document.collection.registration_number or "") if r.document.collection else ""
    ),
    "filer": lambda r: r.filer,
    "filer_role": lambda r: r.filer_role,
    "transport_document": lambda r: r.document.transport_document,
    "value": lambda r: float(r.document.intrinsic_value),
    "value_dest": _value_dest,
    "item_count": lambda r: float(len(r.document.items)),
    "duty_total": lambda r: float(r.assessment.total) if r.assessment is not None else float("nan"),
    "irg_category": lambda r: float(r.assessment.irg_category) if r.assessment else float("nan"),
    "transport_cost": lambda r: _f(r.document.transport_cost),
    "seller.key": lambda r: party_key(r.document.seller),
    "consignee.key": lambda r: party_key(r.document.consignee),
    "consignor.key": lambda r: party_key(r.document.consignor),
    "consignee.identity": lambda r: identity_key(r.document.consignee),
    "seller.identity": lambda r: identity_key(r.document.seller),
}
for _role in ("consignee", "consignor", "seller", "platform"):
    for _part in ("name", "address", "city", "country", "identifier", "email"):
        CONSIGNMENT_FIELDS[f"{_role}.{_part}"] = _party(_role, _part)

NUMERIC_FIELDS = frozenset(
    {
        "value",
        "value_dest",
        "item_count",
        "duty_total",
        "irg_category",
        "transport_cost",
        "item.value",
        "item.quantity",
        "item.net_mass_kg",
        "item.unit_value",
        "item.value_per_kg",
        "item.value_dest",
        "item.unit_value_dest",
    }
)


def _hs6(item: Item | None) -> str:
    if item is None or not item.hs_code:
        return ""
    return item.hs_code.replace(".", "").replace(" ", "")[:6]


ITEM_FIELDS: dict[str, Callable[[Item | None], object]] = {
    "item.description": lambda i: i.description if i else "",
    "item.hs_code": lambda i: (i.hs_code or "").replace(".", "").replace(" ", "") if i else "",
    "item.hs6": _hs6,
    "item.description_key": lambda i: description_key(i.description) if i else "",
    "item.origin_country": lambda i: (i.origin_country or "") if i else "",
    "item.url": lambda i: (i.url or "") if i else "",
    "item.value": lambda i: _f(i.value) if i else float("nan"),
    "item.quantity": lambda i: float(i.quantity) if i else float("nan"),
    "item.net_mass_kg": lambda i: _f(i.net_mass_kg) if i else float("nan"),
}


class Columns:
    """Column views of a batch of RiskInputs. Arrays are computed on first use and cached."""

    def __init__(self, inputs: Sequence[RiskInput]) -> None:
        self.inputs = inputs
        self.n = len(inputs)
        owner: list[int] = []
        items: list[Item | None] = []
        for idx, r in enumerate(inputs):
            if r.document.items:
                owner.extend([idx] * len(r.document.items))
                items.extend(r.document.items)
            else:  # a consignment without items still gets a row so consignment rules can hit
                owner.append(idx)
                items.append(None)
        self.items = items
        self.item_owner: IntArray = np.asarray(owner, dtype=np.int64)
        self._cons: dict[str, npt.NDArray[np.generic]] = {}
        self._item: dict[str, npt.NDArray[np.generic]] = {}

    @property
    def documents(self) -> list[FilingDocument]:
        return [r.document for r in self.inputs]

    def consignment(self, name: str) -> npt.NDArray[np.generic]:
        """One value per consignment."""
        if name in self._cons:
            return self._cons[name]
        getter = CONSIGNMENT_FIELDS.get(name)
        if getter is None:
            raise KeyError(f"unknown consignment field {name!r}")
        values = [getter(r) for r in self.inputs]
        arr = _array(values, name in NUMERIC_FIELDS)
        self._cons[name] = arr
        return arr

    def item(self, name: str) -> npt.NDArray[np.generic]:
        """One value per item row; consignment fields are broadcast to their items."""
        if name in self._item:
            return self._item[name]
        if name in ITEM_FIELDS:
            getter = ITEM_FIELDS[name]
            arr = _array([getter(i) for i in self.items], name in NUMERIC_FIELDS)
        elif name in _DERIVED:
            arr = _DERIVED[name](self)
        else:
            arr = self.consignment(name)[self.item_owner]
        self._item[name] = arr
        return arr

    def any_per_consignment(self, item_mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """True for consignments with at least one True item row."""
        counts = np.bincount(
            self.item_owner, weights=item_mask.astype(np.float64), minlength=self.n
        )
        return counts > 0

    def has_field(self, name: str) -> bool:
        return name in CONSIGNMENT_FIELDS or name in ITEM_FIELDS or name in _DERIVED


def _array(values: list[object], numeric: bool) -> npt.NDArray[np.generic]:
    if numeric:
        return np.asarray(values, dtype=np.float64)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _unit_value(c: Columns) -> FloatArray:
    value = c.item("item.value").astype(np.float64)
    qty = c.item("item.quantity").astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(qty > 0, value / qty, np.nan)


def _value_per_kg(c: Columns) -> FloatArray:
    value = c.item("item.value").astype(np.float64)
    mass = c.item("item.net_mass_kg").astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mass > 0, value / mass, np.nan)


def _to_dest(c: Columns) -> FloatArray:
    """Factor from filing currency to destination currency, from the assessment's own totals."""
    total = c.item("value").astype(np.float64)
    dest = c.item("value_dest").astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, dest / total, np.nan)


_DERIVED: dict[str, Callable[[Columns], npt.NDArray[np.generic]]] = {
    "item.unit_value": _unit_value,
    "item.value_per_kg": _value_per_kg,
    "item.value_dest": lambda c: c.item("item.value").astype(np.float64) * _to_dest(c),
    "item.unit_value_dest": lambda c: c.item("item.unit_value").astype(np.float64) * _to_dest(c),
}
