"""The public estimator's logic, apart from HTTP: the form as a canonical filing (numbers read
in the page's language), the validator's problems placed beside the fields they concern, and the
calculator's quote turned into one honest answer — what you pay, to whom, when, and what the
figure leaves out (a missing tariff line, exchange rate or HS code is said at the top).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from clearway.kernel.errors import Problem
from clearway.web.formats import Formats, NotANumber
from clearway.web.labels import APPROXIMATE_FLAGS, INCOMPLETE_FLAGS

MAX_ITEMS = 5
_ITEM_FIELDS = {
    "description": "description",
    "hs_code": "hs_code",
    "quantity": "quantity",
    "value": "value",
    "origin_country": "origin",
    "net_mass_kg": "value",
}
_TOP_FIELDS = {
    "destination_country": "destination",
    "currency": "currency",
    "category": "category",
    "collection": "collection",
    "transport_cost": "transport_cost",
    "insurance_cost": "transport_cost",
    "legal_date": "legal_date",
    "mode": "destination",
}


@dataclass(slots=True)
class FieldError:
    field: str  # the form control's id
    code: str  # the problem code (`problem_<code>` in the catalogues)
    detail: str  # the validator's own words, kept for the record


@dataclass(slots=True)
class ParsedForm:
    document: dict[str, Any]
    rows: list[int]  # form row of each item in the document
    errors: list[FieldError] = field(default_factory=list)


def read_form(params: dict[str, str], fmt: Formats) -> ParsedForm:
    """The form as a canonical filing; numbers that do not read in the page's language are
    errors on their own field (nothing is guessed)."""
    errors: list[FieldError] = []

    def number(name: str, whole: bool = False) -> str | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        try:
            value = fmt.parse(raw)
        except NotANumber:
            errors.append(FieldError(name, "number", raw))
            return None
        if whole and value != value.to_integral_value():
            errors.append(FieldError(name, "range", raw))
            return None
        return format(value, "f")

    dest = params.get("destination", "").strip().upper()
    items: list[dict[str, Any]] = []
    rows: list[int] = []
    for i in range(MAX_ITEMS):
        desc = params.get(f"description_{i}", "").strip()
        raw_value = params.get(f"value_{i}", "").strip()
        if not desc and not raw_value:
            continue
        value = number(f"value_{i}")
        item: dict[str, Any] = {"description": desc or "-", "value": value or "0"}
        if not raw_value:
            errors.append(FieldError(f"value_{i}", "required", ""))
        if not desc:
            errors.append(FieldError(f"description_{i}", "required", ""))
        hs = re.sub(r"[\s.]", "", params.get(f"hs_code_{i}", ""))
        if hs:
            item["hs_code"] = hs
        qty = number(f"quantity_{i}", whole=True)
        item["quantity"] = int(Decimal(qty)) if qty is not None else 1
        origin = params.get(f"origin_{i}", "").strip().upper()
        if origin:
            item["origin_country"] = origin
        items.append(item)
        rows.append(i)
    doc: dict[str, Any] = {
        "filer_reference": "estimate",
        "transport_document": "ESTIMATE",
        "data_set": "reduced",
        "destination_country": dest,
        "currency": params.get("currency", "").strip().upper() or "EUR",
        "category": params.get("category") or "sale_of_goods",
        "mode": params.get("mode") or "post",
        "items": items,
        "consignee": {"country": dest},
    }
    collection: dict[str, Any] = {"model": params.get("collection") or "consumer"}
    if params.get("registration_number", "").strip():
        collection["registration_number"] = params["registration_number"].strip()
    doc["collection"] = collection
    cost = number("transport_cost")
    if cost is not None:
        doc["transport_cost"] = cost
    if params.get("legal_date", "").strip():
        doc["legal_date"] = params["legal_date"].strip()
    if items and items[0].get("origin_country"):
        doc["dispatch_country"] = items[0]["origin_country"]
    if not items:
        errors.append(FieldError("description_0", "required", ""))
    return ParsedForm(doc, rows, errors)


def place(problems: list[Problem], rows: list[int]) -> list[FieldError]:
    """The validator's problems on the form controls they concern."""
    out: list[FieldError] = []
    for p in problems:
        parts = p.path.strip("/").split("/")
        target = "destination"
        if parts[0] == "items" and len(parts) >= 2 and parts[1].isdigit():
            n = int(parts[1])
            row = rows[n] if n < len(rows) else 0
            target = f"{_ITEM_FIELDS.get(parts[2] if len(parts) > 2 else '', 'description')}_{row}"
        elif parts[0] == "items":
            target = "description_0"
        elif parts[0] == "collection":
            target = "registration_number" if "registration_number" in parts else "collection"
        else:
            target = _TOP_FIELDS.get(parts[0], "destination")
        out.append(FieldError(target, p.code, p.message))
    return out


@dataclass(frozen=True, slots=True)
class Notice:
    flag: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The one answer a shopper needs, from a quote."""

    # "complete"; "approximate" (computed, may differ); "incomplete" (the figure leaves
    # something out); "unavailable" (nothing could be computed)
    state: str
    pay: Decimal  # what the shopper still pays on delivery or before release
    paid_at_checkout: Decimal  # collected by the seller in the price
    currency: str
    payer: str  # quote's payable_by: none, vendor, intermediary, consumer
    missing: tuple[Notice, ...]  # what the figure leaves out or guesses, said at the top
    notes: tuple[str, ...]  # other flags (reliefs applied, collection choices)


def verdict(quote: dict[str, Any]) -> Verdict:
    flags = [str(f) for f in quote.get("flags", [])]
    trace = quote.get("trace", [])
    fallback = next((t for t in trace if t.get("name") == "assessment.fallback"), None)
    total = Decimal(str(quote["total"]))
    payer = str(quote["payable_by"])
    currency = str(quote["currency"])
    if fallback is not None:
        why = [f for f in flags if f != "manual_assessment_required"] or flags
        return Verdict(
            "unavailable",
            Decimal(0),
            Decimal(0),
            currency,
            payer,
            tuple(Notice(f, str(fallback.get("value", ""))) for f in why[:1]),
            (),
        )
    details = _details(quote)
    missing = tuple(Notice(f, details.get(f, "")) for f in flags if f in INCOMPLETE_FLAGS)
    # Manual assessment alongside a named cause says nothing more: keep the cause.
    if len(missing) > 1:
        missing = tuple(n for n in missing if n.flag != "manual_assessment_required")
    approximate = tuple(Notice(f, details.get(f, "")) for f in flags if f in APPROXIMATE_FLAGS)
    notes = tuple(f for f in flags if f not in INCOMPLETE_FLAGS + APPROXIMATE_FLAGS)
    at_checkout = total if payer == "vendor" else Decimal(0)
    pay = total if payer in ("consumer", "intermediary") else Decimal(0)
    state = "incomplete" if missing else "approximate" if approximate else "complete"
    return Verdict(state, pay, at_checkout, currency, payer, missing + approximate, notes)


def _details(quote: dict[str, Any]) -> dict[str, str]:
    """The HS codes behind the tariff flags (from the trace), so the notice can name them."""
    codes = {int(line["item"]): str(line.get("hs_code") or "") for line in quote.get("lines", [])}
    without_line: list[str] = []
    for t in quote.get("trace", []):
        value = str(t.get("value", ""))
        if t.get("name") == "duty.rate" and "no tariff line" in value and "item" in t:
            code = codes.get(int(t["item"]), "")
            if code and code not in without_line:
                without_line.append(code)
    joined = ", ".join(without_line)
    return {
        "hs_code_unknown": joined,
        "tariff_rate_default": joined,
        "manual_assessment_required": joined,
    }
