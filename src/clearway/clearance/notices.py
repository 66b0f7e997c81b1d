"""What a filer is told about its parcel: the body of each notice in its feed."""

from __future__ import annotations

import msgspec

from clearway.clearance.ceb_answers import ceb_answers
from clearway.domain.consignment import Consignment
from clearway.ingestion.cusrsp import answer_for
from clearway.ingestion.dms import answer as dms_answer


def assessment_summary(c: Consignment) -> dict[str, object]:
    a = c.assessment
    assert a is not None
    return {
        "total": str(a.total),
        "currency": a.currency,
        "irg_category": a.irg_category,
        "payable_by": a.payable_by,
    }


def notice_body(c: Consignment, kind: str) -> dict[str, object]:
    """What a filer is told about its parcel (the notices feed)."""
    d = c.decision
    body: dict[str, object] = {
        "consignment_id": c.id,
        "transport_document": c.transport_document,
        "filer_reference": c.document.filer_reference,
        "kind": kind,
        "status": c.status,
        "payment_status": c.payment_status,
    }
    if d is not None:
        body["lane"] = d.lane
        body["referral"] = d.referral
        # Filers see what to do, not the targeting internals.
        body["requests"] = [r.text for r in d.reasons if r.source in ("validation", "match")]
    if c.assessment is not None:
        body["amount_due"] = str(c.assessment.due_at_border)
        body["currency"] = c.assessment.currency
    # Posts read the same notice as a per-item customs response (CUSRSP-like).
    answer = answer_for(
        status=c.status,
        item_id=c.transport_document,
        reasons=[r.text for r in d.reasons if r.source in ("validation", "match")] if d else [],
        referral=d.referral if d else None,
        documents_requested=kind == "request_documents",
        consignment_id=c.id,
        amount_due=c.assessment.due_at_border if c.assessment else None,
        currency=c.assessment.currency if c.assessment else None,
        at=c.updated_at,
    )
    if answer is not None:
        body["item_answer"] = msgspec.to_builtins(answer)
    # a parcel declared by CEB621 inventory: its CEB622 status receipt (and tax bill on release)
    body.update(ceb_answers(c))
    if dms_answer.is_dms(c):  # a DMS declarant's software reads the DMS response
        requested = kind == "request_documents"
        body["dms_answer"] = dms_answer.for_consignment(c, documents_requested=requested).decode()
    return body
