"""What a China cross-border parcel's enterprises are told in CEB terms as its status changes.

A parcel declared with a CEB621 inventory gets, with every notice, the CEB622 status receipt
for its new status (accepted, manual review, inspection, detained, released, returned,
withdrawn), echoing the inventory's guid; on release, the electronic tax bill (CEB816) with
the duty, VAT and consumption tax assessed per goods line.
"""

from __future__ import annotations

from clearway.domain.consignment import Consignment
from clearway.ingestion.ceb.receipts import status_receipt
from clearway.ingestion.ceb.tax import render_tax_bill

# what the assessment's retail-import flag means for the enterprises (CN pack `cbec`)
_REGIME = {
    "cbec_within_limits": "within the transaction and annual limits: duty 0, VAT and "
    "consumption tax at 70 %",
    "cbec_single_item_above_transaction_limit": "one item above the transaction limit: full "
    "duty, VAT and consumption tax",
    "cbec_general_trade": "above the transaction limit: general trade, full duty and taxes",
    "cbec_annual_limit_exceeded": "the orderer's annual limit would be exceeded: general "
    "trade, full duty and taxes",
}


def ceb_answers(c: Consignment) -> dict[str, str]:
    """`ceb_receipt` (and on release `ceb_tax_bill`) for a parcel declared by inventory."""
    doc = c.document
    at = c.updated_at or c.created_at
    if "inventory" not in c.legs or doc.declaration is None or not doc.declaration.message_id:
        return {}
    if at is None:
        return {}
    d = c.decision
    lane = d.lane if d else None
    # what the enterprises are asked to do or told (never the targeting internals)
    requests = [r.text for r in d.reasons if r.source in ("validation", "match")] if d else []
    flags = c.assessment.flags if c.assessment else []
    requests = [_REGIME[f] for f in flags if f in _REGIME] + requests
    out: dict[str, str] = {}
    receipt = status_receipt(
        doc,
        consignment_id=c.id,
        status=c.status,
        lane=lane,
        info="; ".join(dict.fromkeys(requests)),
        at=at,
    )
    if receipt is not None:
        out["ceb_receipt"] = receipt.decode()
    if c.status == "released" and c.assessment is not None and c.assessment.currency == "CNY":
        out["ceb_tax_bill"] = render_tax_bill(
            doc, c.assessment, consignment_id=c.id, at=at
        ).decode()
    return out
