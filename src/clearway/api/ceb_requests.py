"""CEB messages that ask something about a parcel already on file rather than file one.

- CEB625 return request (the declaring agent, after release): opens the return of the goods lines
  it lists (by inventory line number) with the returns workflow — the same rules as
  `POST /v1/returns`: only a declarant of the parcel, only a released parcel, within the
  destination's window; the person's quota is restored for what comes back. Answered with
  CEB626: 120 when the return is on file, 100 with the reason when it is refused.
- CEB711 warehouse entry list (the site operator): every listed waybill must be a parcel on
  file; goods of an open return entering the site are back, so the tax refund of that return is
  claimed for the declarant that filed it, with the officer-approval limits of
  `POST /v1/refunds` (and, when the refund covers every line, the CEB818 cancelling the tax
  bill). Answered with CEB712.
- CEB513 waybill status (the logistics company): checked against the parcels on file and
  acknowledged with CEB514; delivery is not a lifecycle step here.

A parcel the sender is not a party to reads as unknown, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from clearway.api.access import parcel_access, require_full
from clearway.clearance.intake import from_record
from clearway.clearance.pipeline import FilingResult
from clearway.clearance.ports import Filer
from clearway.domain.filing import FILING_ROLES
from clearway.ingestion.ceb import receipts
from clearway.ingestion.ceb.numbers import inventory_number
from clearway.ingestion.ceb.tax import CANCELLED, render_tax_status
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import ClearwayError, Forbidden, Problem
from clearway.returns.approval import parse_limits
from clearway.returns.model import Refund, ReturnedItem
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

REQUEST_KINDS = frozenset({"return_request", "logistics_status", "warehouse_entry"})


@dataclass(slots=True)
class Answer:
    result: FilingResult
    code: str  # the receipt's returnStatus
    notes: list[str] = field(default_factory=list)  # returnInfo besides the problems
    refund_id: str | None = None  # CEB711: the refund claimed for returned goods back
    tax_status: str | None = None  # CEB818 (cancelled) when the whole parcel's tax is refunded


def process(
    svc: Services, who: Principal, filer: Filer, records: list[ParsedRecord], fmt: str
) -> tuple[list[FilingResult], dict[int, Answer]]:
    """Filings through the pipeline, requests answered here; a result per record, in order."""
    filings = [i for i, r in enumerate(records) if r.kind not in REQUEST_KINDS]
    subs = [from_record(records[i], fmt) for i in filings]
    filed = svc.pipeline.process(filer, subs) if subs else []
    requests = {i: r for i, r in enumerate(records) if r.kind in REQUEST_KINDS}
    if requests and who.role not in FILING_ROLES and who.role != "admin":
        raise Forbidden(f"role {who.role!r} cannot file; filing roles: {FILING_ROLES}")
    asked = {i: answer(svc, who, r, i) for i, r in requests.items()}
    by_index = dict(zip(filings, filed, strict=True))
    return [asked[i].result if i in asked else by_index[i] for i in range(len(records))], asked


def request_receipt(record: ParsedRecord, a: Answer, at: datetime) -> str:
    """CEB626/514/712 for a request: its status and what was done (or why not)."""
    problems = sorted(a.result.problems, key=lambda p: p.severity != "error")
    located = receipts.problem_info(
        record.kind, record.references, [(p.path, p.message) for p in problems]
    )
    info = "; ".join(part for part in (located, *a.notes) if part)
    return receipts.render(
        kind=record.kind, code=a.code, head=record.references, info=info, at=at
    ).decode()


def answer(svc: Services, who: Principal, record: ParsedRecord, index: int) -> Answer:
    ref = record.filer_reference
    if record.errors:
        return Answer(FilingResult(index, "rejected", ref, problems=record.problems), "100")
    if record.kind == "return_request":
        return _return(svc, who, record, index)
    if record.kind == "logistics_status":
        return _known(svc, who, record, index, [record.references.get("logisticsNo", "")], "399")
    entered = [n for n in record.references.get("entered", "").split(",") if n]
    known = _known(svc, who, record, index, entered, "120")
    if known.code == "100":
        return known
    return _goods_back(
        svc, [p for td in entered if (p := _parcel(svc, who, td.strip().upper()))], known
    )


def _refused(index: int, record: ParsedRecord, path: str, code: str, text: str) -> Answer:
    head = record.references.get("head_path", "")
    problem = Problem(f"{head}/{path}" if head and path else path, code, text)
    return Answer(
        FilingResult(index, "rejected", record.filer_reference, problems=[problem]), "100"
    )


def _parcel(svc: Services, who: Principal, transport_document: str) -> str | None:
    """The parcel's id when the caller may see it at all (else None: unknown)."""
    head = svc.store.heads_by_transport_document([transport_document]).get(transport_document)
    if head is None:
        return None
    try:
        parcel_access(svc, who, head.id)
    except ClearwayError:  # not a party: unknown
        return None
    return head.id


def _known(
    svc: Services,
    who: Principal,
    record: ParsedRecord,
    index: int,
    documents: list[str],
    code: str,
) -> Answer:
    unknown = [td for td in documents if _parcel(svc, who, td.strip().upper()) is None]
    if unknown or not documents:
        return _refused(
            index,
            record,
            "logisticsNo",
            "unknown_parcel",
            f"no parcel on file for waybill {', '.join(unknown) or '(none named)'}",
        )
    first = _parcel(svc, who, documents[0].strip().upper())
    result = FilingResult(index, "accepted", record.filer_reference, first)
    return Answer(result, code, ["acknowledged"])


def _goods_back(svc: Services, parcels: list[str], known: Answer) -> Answer:
    """Returned goods entering the supervised site: the refund of each open return is claimed
    for the declarant that filed it, with the officer-approval limits of its role."""
    wiring = svc.accounts
    if wiring is None:
        return known
    for cid in parcels:
        for ret in wiring.returns.awaiting_refund(cid):
            officer = ret.filed_by.split(":", 1)[0] in ("officer", "admin")
            limits = None if officer else parse_limits(svc.settings.security.refund_officer_above)
            refund = wiring.returns.claim_refund(
                return_id=ret.id, claimant=ret.filed_by, officer_above=limits
            )
            known.notes.append(
                f"goods of return {ret.id} back: refund {refund.id} {refund.status} "
                f"{refund.amount} {refund.currency}"
            )
            known.notes.extend(refund.reasons)
            known.refund_id = known.refund_id or refund.id
            known.tax_status = known.tax_status or _cancelled_bill(svc, cid, refund)
    return known


def _return(svc: Services, who: Principal, record: ParsedRecord, index: int) -> Answer:
    refs = record.references
    wiring = svc.accounts
    if wiring is None:
        return _refused(index, record, "", "returns_unavailable", "returns are not wired here")
    td = refs.get("logisticsNo", "").strip().upper()
    cid = wiring.store.consignment_by_document(td) if td else None
    try:
        if cid is None:
            raise ClearwayError("unknown")
        require_full(svc, who, cid)  # the parcel's declarants (and officers) only
    except ClearwayError:
        return _refused(
            index, record, "logisticsNo", "unknown_parcel", f"no parcel {td} you declared"
        )
    items: list[ReturnedItem] = []
    for part in refs.get("returned", "").split(","):
        gnum, _, qty = part.partition(":")
        if not (gnum.isdigit() and qty.isdigit()) or int(gnum) < 1:
            return _refused(
                index, record, "", "invalid_line", f"returned line {part!r}: gnum and qty"
            )
        items.append(ReturnedItem(int(gnum) - 1, int(qty)))
    actor = f"{who.role}:{who.operator}"
    try:
        ret = wiring.returns.file_return(
            inbound=cid,
            return_document=refs.get("copNo", "") or record.source_ref,
            items=items,
            who=actor,
            reason=refs.get("reason"),
        )
    except ClearwayError as exc:  # not released, outside what was declared, a second return…
        problems = exc.problems or [Problem("", "return_refused", str(exc))]
        return Answer(
            FilingResult(index, "rejected", record.filer_reference, problems=problems), "100"
        )
    notes = [f"return {ret.id} opened"]
    if ret.quota_restored is not None:
        notes.append(f"quota restored {ret.quota_restored}")
    if ret.goods_back_by is not None:
        notes.append(f"goods to be back by {ret.goods_back_by}")
    notes.append("the refund is claimed when a warehouse entry (CEB711) lists the goods back")
    result = FilingResult(index, "accepted", record.filer_reference, cid, "released")
    return Answer(result, "120", notes)


def _cancelled_bill(svc: Services, cid: str, refund: Refund) -> str | None:
    """CEB818 status 3: an approved refund of every line of a parcel cancels its tax bill."""
    c = svc.store.load(cid)
    a = c.assessment if c else None
    if c is None or a is None or refund.status != "approved" or a.currency != "CNY":
        return None
    returned = {i: 0 for i in range(len(c.document.items))}
    for it in refund.items:
        returned[it.item] = returned.get(it.item, 0) + it.quantity
    if any(returned[i] < item.quantity for i, item in enumerate(c.document.items)):
        return None  # part of the goods stays: the bill stands, the refund is its own
    when = svc.clock.now()
    year = (c.document.legal_date or when).year
    invt_no = inventory_number(c.document.office, year, cid)
    return render_tax_status(
        consignment_id=cid, invt_no=invt_no, status=CANCELLED, at=when
    ).decode()
