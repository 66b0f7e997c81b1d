"""An officer's correction reassesses the parcel: what is owed follows what was found.

When an inspection corrects the value or the HS code, the consignment's goods are corrected
(the value shared over the items in proportion to what was declared; the HS code on the item
named), the assessor runs again at the same legal date, and the amount due changes with it. If
more is now due from the consignee, the payment hold is (re)placed, so release waits for it;
if nothing is due any more, the charge is waived and the payment hold lifted. The inspection
itself ends the lane hold that asked for it. The old and new totals go on the inspection event,
so the timeline shows the new amount before anyone can release.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import msgspec

from clearway.clearance.ports import Hold
from clearway.domain.assessment import Assessment
from clearway.domain.consignment import Consignment
from clearway.domain.filing import FilingDocument

Reassess = Callable[[FilingDocument, date], Assessment]
# Holds that an inspection or documentary check answers once it is recorded.
INSPECTION_HOLDS = (
    "documentary check (yellow lane)",
    "physical or non-intrusive inspection (red lane)",
)


@dataclass(slots=True)
class Correction:
    new_holds: list[Hold] = field(default_factory=list)
    lifted: list[Hold] = field(default_factory=list)  # open holds the inspection answers
    data: dict[str, str | None] = field(default_factory=dict)  # for the inspection event


def corrected_document(
    doc: FilingDocument, value: Decimal | None, hs_code: str | None, item: int = 0
) -> FilingDocument:
    """The goods as the officer found them (nothing else changes)."""
    items = list(doc.items)
    if value is not None and items:
        declared = [it.value or Decimal(0) for it in items]
        total = sum(declared, Decimal(0))
        shares = (
            [v / total for v in declared] if total > 0 else [Decimal(1) / len(items)] * len(items)
        )
        new_values = [(value * s).quantize(Decimal("0.01")) for s in shares]
        new_values[-1] += value - sum(new_values, Decimal(0))  # the cents stay whole
        items = [
            msgspec.structs.replace(it, value=v) for it, v in zip(items, new_values, strict=True)
        ]
    if hs_code is not None and 0 <= item < len(items):
        items[item] = msgspec.structs.replace(items[item], hs_code=hs_code)
    return msgspec.structs.replace(doc, items=items)


def apply_correction(
    c: Consignment,
    reassess: Reassess,
    *,
    value: Decimal | None,
    hs_code: str | None,
    item: int,
    open_holds: list[Hold],
    payment_hold: str,
    actor: str,
    now: datetime,
    new_hold_id: Callable[[], str],
) -> Correction:
    """Correct and reassess `c` in place; the holds to place and lift come back."""
    out = Correction()
    out.lifted = [
        h for h in open_holds if h.authority == "customs" and h.reason in INSPECTION_HOLDS
    ]
    if value is None and hs_code is None:
        return out
    legal = c.document.legal_date or (c.created_at.date() if c.created_at else now.date())
    old = c.assessment
    c.document = corrected_document(c.document, value, hs_code, item)
    c.assessment = reassess(c.document, legal)
    due = c.assessment.due_at_border
    out.data = {
        "old_total": str(old.total) if old else None,
        "new_total": str(c.assessment.total),
        "due_at_border": str(due),
        "assessed_currency": c.assessment.currency,
    }
    paid_hold = [h for h in open_holds if h.reason == payment_hold]
    if due > 0 and c.payment_status in ("none", "due"):
        charged = {"amount": str(due), "currency": c.assessment.currency}
        c.apply_payment("charge", at=now, actor=actor, data=charged)
        if not paid_hold:
            out.new_holds.append(Hold(new_hold_id(), c.id, "customs", payment_hold, actor, now))
    elif due == 0 and c.payment_status == "due":
        waived = {"reason": "reassessed after inspection"}
        c.apply_payment("waive", at=now, actor=actor, data=waived)
        out.lifted.extend(paid_hold)
    return out
