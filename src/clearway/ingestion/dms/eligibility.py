"""Who may use the H7 declaration: consignments up to EUR 150, no excise, no restricted goods.

Delegated Regulation (EU) 2015/2446 Art. 143a: H7 is the declaration of low-value consignments
relieved under Art. 23(1) of Regulation (EU) No 1186/2009; goods subject to excise duties or to
prohibitions and restrictions need the full H1 declaration. The limits are dated data
(`ingestion/data/dms_h7_eligibility.yaml`, and the destination pack's excise headings); the value
is converted to euro with the revenue side's exchange rates at the legal date. Each refusal
points at the declaration element that carries the reason and tells the sender to use H1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

from clearway.domain.filing import FilingDocument
from clearway.ingestion.dms.pointers import xpath
from clearway.kernel.errors import ClearwayError, Problem
from clearway.revenue.assessor import PackAssessor

_ITEMS = "GoodsShipment/GovernmentAgencyGoodsItem"
_USE_H1 = "lodge a standard (H1) declaration instead"


@dataclass(frozen=True, slots=True)
class H7Limits:
    start: date
    max_value: Decimal
    max_currency: str
    restricted: tuple[tuple[str, str], ...]  # (code prefix, why)
    excise_extra: tuple[str, ...]
    reference: str


@cache
def _limits() -> tuple[H7Limits, ...]:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("clearway.ingestion")
        .joinpath("data", "dms_h7_eligibility.yaml")
        .read_text(encoding="utf-8")
    )
    out = [
        H7Limits(
            date.fromisoformat(str(entry["from"])),
            Decimal(str(entry["max_intrinsic_value"]["amount"])),
            str(entry["max_intrinsic_value"]["currency"]),
            tuple((str(r["prefix"]), str(r["why"])) for r in entry.get("restricted", [])),
            tuple(str(p) for p in entry.get("excise_extra", [])),
            str(entry["reference"]),
        )
        for entry in raw["h7"]
    ]
    return tuple(sorted(out, key=lambda limits: limits.start))


def limits_at(when: date) -> H7Limits | None:
    """The H7 limits in force on `when` (None before H7 existed)."""
    current = None
    for limits in _limits():
        if limits.start <= when:
            current = limits
    return current


def is_h7(doc: FilingDocument) -> bool:
    return doc.declaration is not None and doc.declaration.procedure_category == "H7"


def problems(doc: FilingDocument, today: date) -> list[Problem]:
    """Why this H7 declaration may not be lodged as H7 (nothing for other filings)."""
    if not is_h7(doc):
        return []
    when = doc.legal_date or today
    limits = limits_at(when)
    if limits is None:
        return []
    assessor = PackAssessor.load_default()
    out = _value(doc, when, limits, assessor)
    rules = assessor.rules(doc.destination_country.upper(), when)
    excise = tuple(str(h) for h in (rules.value("excise.headings") if rules else None) or ())
    excise += limits.excise_extra
    for i, item in enumerate(doc.items):
        code = item.hs_code or ""
        where = xpath(_ITEMS, "Commodity/Classification/ID", index=i)
        heading = next((h for h in excise if code.startswith(h)), None)
        if heading:
            out.append(
                Problem(
                    where,
                    "h7.excise_goods",
                    f"goods of heading {heading} are subject to excise duties and cannot be "
                    f"declared with H7 (Art. 143a(2) DA); {_USE_H1}",
                )
            )
        why = next((w for prefix, w in limits.restricted if code.startswith(prefix)), None)
        if why:
            out.append(
                Problem(
                    where,
                    "h7.restricted_goods",
                    f"HS {code}: {why} are subject to prohibitions or restrictions and cannot "
                    f"be declared with H7 (Art. 143a(2) DA); {_USE_H1}",
                )
            )
    return out


def _value(
    doc: FilingDocument, when: date, limits: H7Limits, assessor: PackAssessor
) -> list[Problem]:
    where = xpath(_ITEMS, "Commodity/InvoiceLine/ItemChargeAmount")
    value = doc.intrinsic_value
    try:
        quote = assessor.customs_quote(
            doc.currency.upper(), limits.max_currency, doc.destination_country.upper(), when
        )
    except ClearwayError as exc:
        return [
            Problem(
                where,
                "h7.value_not_converted",
                f"the intrinsic value could not be compared with the H7 limit: {exc.detail}",
                "warning",
            )
        ]
    # the pack's customs rate (EU: the month's rate, IA art. 146), divided as the law converts
    converted = (value * quote.via_eur[1] / quote.via_eur[0]).quantize(Decimal("0.01"))
    if converted <= limits.max_value:
        return []
    return [
        Problem(
            where,
            "h7.value_over_limit",
            f"intrinsic value {value} {doc.currency} (= {converted} {limits.max_currency} at the "
            f"customs rate for {when.isoformat()}, ECB {quote.published.isoformat()}) is above "
            f"the H7 limit of {limits.max_value} "
            f"{limits.max_currency} (Art. 143a(1) DA); {_USE_H1}",
        )
    ]
