"""Model features: ONE code path for training and scoring.

Input is a *risk frame*: a pandas DataFrame of strings, one row per goods item, with canonical
column names (below). The product builds it from consignments (`frame_from_columns`); the
benchmark reader builds it from the Customs Import Declaration Datasets layout. Features are:

- numbers: declared value, net mass, duty rate, log value per kg; for the product's consignments
  also the unit value as a share of the HS6 reference price and how usual the HS chapter is for
  the description (both read from the HistoryProvider's traffic, never from labels);
- codes: low-cardinality categories (office, mode, …) as vocabulary indices from training;
- history: for each key group (one column such as `importer`, or a pair such as `hs6`+`value`),
  the smoothed irregularity rate and the number of inspected consignments with that key, read
  from a `HistoryProvider`. In scoring the provider holds past outcomes; in training it holds
  the training labels of the *other* folds (out-of-fold), so no row ever sees its own label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from clearway.risk.columns import Columns
from clearway.risk.history import (
    KEY_SEPARATOR,
    HistoryProvider,
    InMemoryHistory,
    UInt64Array,
    combine_hashes,
    part_hashes,
    smoothed_rate,
)

FloatArray = npt.NDArray[np.float64]

# Canonical risk-frame columns. Entity columns are history keys; all values are strings.
FRAME_COLUMNS: tuple[str, ...] = (
    "row_id",  # consignment id (product) or declaration id (benchmark)
    "date",
    "office",
    "declarant",  # who files: broker, platform, carrier
    "importer",  # consignee
    "seller",
    "carrier",
    "hs6",
    "dispatch",  # country of departure
    "origin",
    "mode",
    "value",  # declared item value as written (a decimal string)
    "mass",  # net mass in kg as written
    "duty_rate",  # percent
    "tax_type",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "origin_indicator",
    "price_ratio",  # item unit value / HS6 reference unit price (product frames with history)
    "hs_share",  # share of history items with the same description under the same HS chapter
)

NUMERIC = ("value", "mass", "duty_rate", "price_ratio", "hs_share")
CODED = (
    "office",
    "mode",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "origin_indicator",
)
# Key groups whose history is a feature. Pairs with `value` catch repeated declared amounts
# (templated invoices) that have been irregular before.
HISTORY_GROUPS: tuple[tuple[str, ...], ...] = (
    ("hs6",),
    ("declarant",),
    ("importer",),
    ("seller",),
    ("dispatch",),
    ("origin",),
    ("tax_type",),
    ("value",),
    ("mass",),
    ("duty_rate", "value"),
    ("tax_type", "value"),
    ("origin", "value"),
    ("hs6", "value"),
    ("dispatch", "value"),
    ("mass", "value"),
    ("hs6", "mass"),
    ("dispatch", "mass"),
    ("declarant", "hs6"),
    ("importer", "hs6"),
)


def kind_of(group: Sequence[str]) -> str:
    """History kind name of a key group: `hs6` or `hs6+value`."""
    return "+".join(group)


@dataclass
class FeatureSpec:
    """Everything needed to turn a risk frame into the model's matrix; saved in the manifest."""

    numeric: list[str]
    coded: dict[str, list[str]]  # column -> vocabulary (index = code)
    groups: list[list[str]]
    prior: float
    strength: float = 1.0
    names: list[str] = field(default_factory=list)
    _indexes: dict[str, pd.Index] = field(default_factory=dict, repr=False, compare=False)

    def vocabularies(self) -> dict[str, pd.Index]:
        """Vocabulary indexes of the coded columns, built once."""
        if len(self._indexes) != len(self.coded):
            self._indexes = {c: pd.Index(v, dtype=object) for c, v in self.coded.items()}
        return self._indexes

    def to_json(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "coded": self.coded,
            "groups": self.groups,
            "prior": self.prior,
            "strength": self.strength,
            "names": self.names,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureSpec:
        return cls(
            numeric=list(data["numeric"]),
            coded={k: list(v) for k, v in data["coded"].items()},
            groups=[list(g) for g in data["groups"]],
            prior=float(data["prior"]),
            strength=float(data["strength"]),
            names=list(data["names"]),
        )


def make_spec(
    frame: pd.DataFrame, labels: npt.NDArray[np.int64], strength: float = 1.0
) -> FeatureSpec:
    """A spec for the columns a training frame actually fills."""
    filled = {c for c in frame.columns if frame[c].astype(bool).any()}
    numeric = [c for c in NUMERIC if c in filled]
    coded = {c: sorted(set(frame[c].tolist())) for c in CODED if c in filled}
    groups = [list(g) for g in HISTORY_GROUPS if all(c in filled for c in g)]
    spec = FeatureSpec(numeric, coded, groups, float(np.mean(labels)), strength)
    names = [*numeric, "log_value_per_kg", *coded]
    for g in groups:
        names += [f"rate_{'_'.join(g)}", f"seen_{'_'.join(g)}"]
    spec.names = names
    return spec


def group_keys(frame: pd.DataFrame, group: Sequence[str]) -> npt.NDArray[np.object_]:
    """Key of each row for one group; empty when any part is empty."""
    parts = [frame[c].to_numpy(dtype=object) for c in group]
    keys: npt.NDArray[np.object_]
    if len(parts) == 1:
        keys = parts[0]
        return keys
    keys = np.empty(len(frame), dtype=object)
    keys[:] = [KEY_SEPARATOR.join(p) if all(p) else "" for p in zip(*parts, strict=True)]
    return keys


def history_counts(
    history: HistoryProvider,
    kind: str,
    frame: pd.DataFrame,
    group: Sequence[str],
    hashes: dict[str, UInt64Array],
) -> tuple[FloatArray, FloatArray]:
    """Inspected and irregular counts per row for one key group.

    The in-memory history is looked up by key hashes (vectorised, no string building); any
    other provider is asked once per distinct key.
    """
    if isinstance(history, InMemoryHistory):
        for c in group:
            if c not in hashes:
                hashes[c] = part_hashes(frame[c].to_numpy(dtype=object))
        return history.counts_by_hash(kind, combine_hashes([hashes[c] for c in group]))
    keys = group_keys(frame, group)
    codes, uniques = pd.factorize(keys)
    found = history.entity_stats(kind, [str(u) for u in uniques if u])
    inspected = np.fromiter(
        (found[u].inspected if u in found else 0 for u in uniques), np.float64, len(uniques)
    )
    irregular = np.fromiter(
        (found[u].irregular if u in found else 0 for u in uniques), np.float64, len(uniques)
    )
    return inspected[codes], irregular[codes]


def build_matrix(frame: pd.DataFrame, spec: FeatureSpec, history: HistoryProvider) -> FloatArray:
    """The model's input matrix for a risk frame (rows in frame order, columns = spec.names)."""
    n = len(frame)
    out = np.empty((n, len(spec.names)), dtype=np.float64)
    col = 0
    numbers = {c: _to_float(frame[c]) for c in dict.fromkeys(("value", "mass", *spec.numeric))}
    for c in spec.numeric:
        out[:, col] = numbers[c]
        col += 1
    value = numbers.get("value", np.full(n, np.nan))
    mass = numbers.get("mass", np.full(n, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, col] = np.log1p(value) - np.log1p(mass)
    col += 1
    for c, index in spec.vocabularies().items():
        out[:, col] = index.get_indexer(frame[c].to_numpy(dtype=object))
        col += 1
    hashes: dict[str, UInt64Array] = {}
    for g in spec.groups:
        inspected, irregular = history_counts(history, kind_of(g), frame, g, hashes)
        out[:, col] = smoothed_rate(irregular, inspected, spec.prior, spec.strength)
        out[:, col + 1] = inspected
        col += 2
    return out


def _to_float(series: pd.Series) -> FloatArray:
    raw = series.to_numpy(dtype=object)
    try:
        values: FloatArray = np.where(raw == "", "nan", raw).astype(np.float64)
    except (ValueError, TypeError):  # something that is not a number: parse leniently
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    return values


def history_from_labels(
    frame: pd.DataFrame, labels: npt.NDArray[np.int64], groups: Sequence[Sequence[str]]
) -> InMemoryHistory:
    """History of every key group counted from labelled rows (each counts as inspected)."""
    return InMemoryHistory.from_labels(
        {kind_of(g): group_keys(frame, g) for g in groups}, labels.tolist()
    )


def out_of_fold_matrix(
    frame: pd.DataFrame,
    labels: npt.NDArray[np.int64],
    spec: FeatureSpec,
    *,
    folds: int = 5,
    seed: int = 0,
) -> FloatArray:
    """Training matrix whose history features for each row come from the other folds only."""
    fold = np.random.default_rng(seed).permutation(np.arange(len(frame)) % folds)
    out = np.empty((len(frame), len(spec.names)), dtype=np.float64)
    for f in range(folds):
        held = fold == f
        history = history_from_labels(frame[~held], labels[~held], spec.groups)
        out[held] = build_matrix(frame[held], spec, history)
    return out


# --- the product's consignments as a risk frame --------------------------------------------------


def _decimal_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return ""


def _price_ratio(columns: Columns, history: HistoryProvider) -> list[str]:
    unit = columns.item("item.unit_value").astype(np.float64)
    hs6 = columns.item("item.hs6").astype(object)
    currency = columns.item("currency").astype(object)
    reference = np.full(len(unit), np.nan)
    for cur in set(currency.tolist()):
        rows = np.flatnonzero(currency == cur)
        prices = history.reference_unit_prices({str(hs6[i]) for i in rows if hs6[i]}, str(cur))
        reference[rows] = [prices.get(str(hs6[i]), np.nan) for i in rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = unit / reference
    return [f"{r:.4g}" if np.isfinite(r) else "" for r in ratio]


def _hs_share(columns: Columns, history: HistoryProvider) -> list[str]:
    desc = columns.item("item.description_key").astype(object)
    hs6 = columns.item("item.hs6").astype(object)
    pairs = [
        f"{d}{KEY_SEPARATOR}{str(h)[:2]}" if d and h else "" for d, h in zip(desc, hs6, strict=True)
    ]
    seen = history.entity_stats("description", {str(d) for d in desc if d})
    paired = history.entity_stats("description+hs2", {p for p in pairs if p})
    out = []
    for d, p in zip(desc, pairs, strict=True):
        total = seen[d].seen if p and d in seen else 0
        out.append(f"{(paired[p].seen if p in paired else 0) / total:.4g}" if total else "")
    return out


def _carrier(columns: Columns) -> Any:
    filer = columns.item("filer")
    return np.where(np.isin(columns.item("filer_role"), ["carrier", "post"]), filer, "")


# The risk-frame columns a product batch fills, each from the batch's columns. Frame columns not
# named here (and not filled from history) are empty.
_FROM_COLUMNS: dict[str, Callable[[Columns], Any]] = {
    "row_id": lambda c: c.item("consignment_id"),
    "date": lambda c: c.item("legal_date"),
    "office": lambda c: c.item("office"),
    "declarant": lambda c: c.item("filer"),
    "importer": lambda c: c.item("consignee.key"),
    "seller": lambda c: c.item("seller.key"),
    "carrier": _carrier,
    "hs6": lambda c: c.item("item.hs6"),
    "dispatch": lambda c: c.item("dispatch_country"),
    "origin": lambda c: c.item("item.origin_country"),
    "mode": lambda c: c.item("mode"),
    "value": lambda c: [_decimal_text(i.value) if i is not None else "" for i in c.items],
    "mass": lambda c: [_decimal_text(i.net_mass_kg) if i is not None else "" for i in c.items],
}


def frame_column(columns: Columns, name: str) -> npt.NDArray[np.object_]:
    """One risk-frame column of a batch without the rest of the frame: what
    `frame_from_columns(columns)[name]` holds, as an object array."""
    out = np.empty(len(columns.item_owner), dtype=object)
    make = _FROM_COLUMNS.get(name)
    out[:] = make(columns) if make is not None else ""
    return out


def frame_from_columns(columns: Columns, history: HistoryProvider | None = None) -> pd.DataFrame:
    """One row per item of a batch of consignments, in canonical risk-frame columns.

    With a history provider, `price_ratio` and `hs_share` are filled from its traffic."""
    data: dict[str, Any] = {name: make(columns) for name, make in _FROM_COLUMNS.items()}
    if history is not None:
        data["price_ratio"] = _price_ratio(columns, history)
        data["hs_share"] = _hs_share(columns, history)
    frame = pd.DataFrame(data)
    for c in FRAME_COLUMNS:
        if c not in frame:
            frame[c] = ""
    return frame[list(FRAME_COLUMNS)].astype(object)
