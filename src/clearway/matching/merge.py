"""Merge the legs filed about one consignment and cross-check them.

Legs are the filings of different parties: a platform's order, a payment provider's payment
record, a carrier's or post's waybill, a broker's declaration or inventory list. The merged
record takes its goods lines from the most authoritative leg that lists goods (declaration, then
inventory, then order; a leg never invents goods it does not list), the transport document from
whichever leg knows it, and the order and payment blocks from their own legs. Every disagreement
is a reason on the decision (`matching/checks.py`). Whether a leg belongs to a parcel at all is
decided before merging, by intake; merging only combines legs already joined.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import msgspec

from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import Problem
from clearway.matching.checks import cross_checks
from clearway.matching.rules import MatchRules

_GOODS_PRIORITY = ("declaration", "inventory", "order", "waybill", "payment")
_DATA_SET_RANK = {"full": 0, "reduced": 1, "pre_loading": 2}
_DECLARING = frozenset({"declaration", "inventory"})
# legs a full declaration stands for when it is on file (it is the customs declaration, and it
# carries the order block when it has one)
_STANDS_FOR = {"inventory": "declaration"}


@dataclass(frozen=True, slots=True)
class Leg:
    kind: str
    role: str
    document: FilingDocument
    reference: str = ""  # "<operator id>/<filer reference>": one leg per filer reference

    @property
    def rank(self) -> tuple[int, int, int]:
        """Authority for goods data: legs listing goods first, declaration before inventory
        before order; within a kind, complete data sets."""
        kind = _GOODS_PRIORITY.index(self.kind) if self.kind in _GOODS_PRIORITY else 0
        return (
            (0 if self.document.items else 1),
            kind,
            _DATA_SET_RANK.get(self.document.data_set, 0),
        )


@dataclass
class MergeResult:
    document: FilingDocument
    legs: list[str]
    missing: list[str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def mismatched(self) -> bool:
        return any(
            p.code.startswith("match_") and p.code != "match_leg_missing" for p in self.problems
        )


_FILLED_FROM_ANY_LEG = (
    "consignee",
    "consignor",
    "seller",
    "platform",
    "buyer",
    "carrier",
    "dispatch_country",
    "transport_cost",
    "insurance_cost",
    "master_document",
    "office",
    "legal_date",
    "gross_mass_kg",
    "packages",
)


def merge(legs: list[Leg], rules: MatchRules) -> MergeResult:
    """One merged document plus the cross-check problems (as warnings)."""
    if not legs:
        raise ValueError("nothing to merge")
    ordered = sorted(legs, key=lambda leg: leg.rank)
    base = ordered[0].document
    by_kind = {leg.kind: leg.document for leg in legs}
    changes: dict[str, object] = {}
    if not base.transport_document:
        td = next(
            (leg.document.transport_document for leg in ordered if leg.document.transport_document),
            "",
        )
        if td:
            changes["transport_document"] = td
    for name in _FILLED_FROM_ANY_LEG:
        if getattr(base, name) is None:
            value = next(
                (
                    getattr(leg.document, name)
                    for leg in ordered
                    if getattr(leg.document, name) is not None
                ),
                None,
            )
            if value is not None:
                changes[name] = value
    order = by_kind["order"].order if "order" in by_kind else base.order
    payment = by_kind["payment"].payment if "payment" in by_kind else base.payment
    if order is not None:
        changes["order"] = order
    if payment is not None:
        changes["payment"] = payment
    merged = msgspec.structs.replace(base, **changes) if changes else base
    present = sorted({leg.kind for leg in legs})
    missing = missing_legs(present, merged, rules)
    problems = cross_checks(merged, by_kind, rules)
    problems += [
        Problem("/legs", "match_leg_missing", f"no {k} record on file yet", "warning")
        for k in missing
    ]
    return MergeResult(merged, present, missing, problems)


def missing_legs(kinds: Iterable[str], doc: FilingDocument, rules: MatchRules) -> list[str]:
    """Legs the rules require that are not on file. A declaration stands for the inventory, and
    a declaring leg that carries the order block stands for the order record."""
    have = set(kinds) or {"declaration"}
    has_order = "order" in have or bool(have & _DECLARING and doc.order)
    out = []
    for k in rules.required_legs:
        if k in have or (k == "order" and has_order):
            continue
        if _STANDS_FOR.get(k) in have:
            continue
        out.append(k)
    return out


def ready(kinds: Iterable[str], doc: FilingDocument, rules: MatchRules) -> bool:
    """Can the parcel be assessed and decided? Only on goods some leg lists, and where the rules
    say so, once a declaring leg is on file; until then its legs wait for their partners."""
    if not doc.items:
        return False
    return not rules.assess_with or bool(set(kinds) & set(rules.assess_with))


def overdue(first_leg_at: date, today: date, rules: MatchRules) -> bool:
    """Is a missing leg past the wait? (Day resolution: the wait is counted in whole days.)"""
    return (today - first_leg_at).days * 24 >= rules.wait_hours
