"""Collection models: who collects the duty and tax of a consignment, and when.

- vendor: a registered seller or platform charged the tax at sale; the parcel carries the
  registration number; nothing is collected at the border, the amount is recorded against the
  registration for the monthly reconciliation. Some regimes make it the only model below a value
  (`mandatory`): there, import tax is simply not due at the border.
- intermediary: the person presenting the goods (post, carrier) collects from the consignee at
  delivery and pays customs periodically on its account.
- consumer: the consignee pays before delivery; release waits for payment.

A vendor claim that cannot be honoured falls back to consumer collection, with a flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from clearway.domain.assessment import TraceEntry
from clearway.domain.filing import FilingDocument

# Looks a registration number up in a registry: "valid", "invalid", or None when unknown.
RegistrationStatus = Callable[[str, date], str | None]


@dataclass(slots=True)
class CollectionChoice:
    model: str  # vendor | intermediary | consumer
    flags: list[str] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def choose_model(
    doc: FilingDocument,
    legal_date: date,
    vendor: dict[str, Any] | None,
    intermediary: dict[str, Any] | None,
    value_in: Callable[[dict[str, Any]], Decimal],
    has_excise_goods: bool,
    registration_status: RegistrationStatus | None,
    category: str | None = None,
    item_values_in: Callable[[str], list[Decimal]] | None = None,
) -> CollectionChoice:
    """Apply the pack's collection rules to the model declared on the filing.

    `value_in(threshold)` gives the consignment's value in the threshold's currency and basis;
    `category` is the consignment's category in law (a declared gift with an order is a sale).
    """
    category = category or doc.category
    declared = doc.collection_model
    number = doc.collection.registration_number if doc.collection else None
    number = number.strip() if number else None
    choice = CollectionChoice(declared)

    vendor_possible = vendor is not None and _within(vendor, value_in, item_values_in)
    excise_out = has_excise_goods and vendor is not None and vendor["excludes_excise"]
    if excise_out and (
        declared == "vendor" or (vendor_possible and bool(vendor and vendor["mandatory"]))
    ):
        # IOSS (Dir. 2006/112 art. 369l), the UK's GBP 135 seller rule and Australia's
        # AUD 1,000 regime leave excise goods out: duty and tax are collected at the border
        choice.model = "consumer"
        choice.flags.append("vendor_collection_excise_goods")
        choice.trace.append(
            TraceEntry(
                "collection.excise_goods",
                "excise goods are outside the seller-collection regime: collected at the border",
                at=legal_date.isoformat(),
            )
        )
        return choice
    if declared == "vendor" and category != "sale_of_goods":
        # the seller regimes cover distance sales only, not gifts or other consignments
        choice.model = "consumer"
        choice.flags.append("vendor_collection_not_a_sale")
        return choice
    if (
        vendor is not None
        and vendor_possible
        and vendor["mandatory"]
        and category == "sale_of_goods"
    ):
        # The regime makes the seller liable for tax at sale on every such sale (import relief
        # applies by law), so the border collects none; a missing or malformed number is the
        # seller's compliance failure, flagged for follow-up. Gifts and other consignments that
        # are not sales have no seller: they follow the declared model and pay at the border.
        choice.model = "vendor"
        if number is None:
            choice.flags.append("registration_number_missing")
        elif not _pattern(vendor["number_pattern"]).fullmatch(number):
            choice.flags.append("registration_number_invalid")
        return choice

    if declared == "vendor":
        reason = _vendor_refusal(vendor, vendor_possible, has_excise_goods, number)
        if reason is None and registration_status is not None and number is not None:
            status = registration_status(number, legal_date)
            choice.trace.append(
                TraceEntry(
                    "registration.status",
                    status or "unknown",
                    at=legal_date.isoformat(),
                )
            )
            if status == "invalid":
                reason = "registration_number_invalid"
            elif status == "not_held":  # registered, but to someone else than this parcel's
                reason = "registration_number_not_held"
        if reason is not None:
            choice.model = "consumer"
            choice.flags.append(reason)
        return choice

    if declared == "intermediary" and (
        intermediary is None
        or value_in(intermediary["max_value"]) > intermediary["max_value"]["amount"]
    ):
        choice.model = "consumer"
        choice.flags.append("intermediary_collection_unavailable")
    return choice


def _within(
    vendor: dict[str, Any],
    value_in: Callable[[dict[str, Any]], Decimal],
    item_values_in: Callable[[str], list[Decimal]] | None,
) -> bool:
    """Whether the consignment (or each item, where the regime says so) is within the limit."""
    limit = vendor["max_value"]
    if limit is None:
        return True
    values = (
        item_values_in(limit["currency"])
        if vendor.get("per_item") and item_values_in is not None
        else [value_in(limit)]
    )
    if vendor.get("strictly_below"):
        return all(v < limit["amount"] for v in values)
    return all(v <= limit["amount"] for v in values)


def _vendor_refusal(
    vendor: dict[str, Any] | None, possible: bool, excise: bool, number: str | None
) -> str | None:
    if vendor is None:
        return "vendor_collection_unavailable"
    if not possible:
        return "vendor_collection_above_threshold"
    if excise and vendor["excludes_excise"]:
        return "vendor_collection_excise_goods"
    if number is None:
        return "registration_number_missing"
    if not _pattern(vendor["number_pattern"]).fullmatch(number):
        return "registration_number_invalid"
    return None
