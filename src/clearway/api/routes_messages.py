"""Standard messages in: EU H7 (WCO DMS XML), China CEB XML, CSV, JSON — with receipts back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.ceb_requests import Answer, process, request_receipt
from clearway.api.deps import PrincipalDep, ServicesDep, read_body
from clearway.api.openapi import responses
from clearway.api.problems import PROBLEM_JSON, problem_type
from clearway.api.routes_filings import count, result_out
from clearway.api.runtime import awaits_decision
from clearway.api.schemas import FilingResultOut, ProblemDocument, ProblemItem
from clearway.clearance import dms
from clearway.clearance.pipeline import FilingResult
from clearway.clearance.ports import Filer
from clearway.ingestion import ceb
from clearway.ingestion.detect import parse
from clearway.ingestion.dms.pointers import to_xpath
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import InvalidInput, Problem
from clearway.storage.dms_register import SqlDeclarationRegister
from clearway.wiring.services import Services

router = APIRouter(tags=["filings"])
MESSAGE_TYPES = (
    "application/xml",
    "text/xml",
    "text/csv",
    "application/json",
    "application/x-ndjson",
    "text/plain",
)
_ENC = msgspec.json.Encoder(decimal_format="string")


class MessageResultOut(FilingResultOut, omit_defaults=True):
    kind: str = "declaration"
    source_ref: str = ""
    receipt: str | None = None  # the CEB receipt or H7 answer (XML) for this message
    mrn: str | None = None  # EU DMS: the declaration's movement reference number
    refund_id: str | None = None  # EU DMS follow-up, CEB625: the refund it claimed (/v1/refunds)
    tax_status: str | None = None  # CEB625 returning a whole parcel: the CEB818 cancelling its bill


class MessagesOut(msgspec.Struct):
    format: str
    accepted: int
    rejected: int
    results: list[MessageResultOut]


def receipt_for(
    fmt: str,
    record: ParsedRecord,
    r: FilingResult,
    at: datetime,
    original: bytes = b"",
) -> str | None:
    """The answer a filer's system expects in its own format (DMS answers: `_lodge_dms`)."""
    if fmt == "ceb":
        return ceb_receipt(record, r, at, original)
    return None


def ceb_receipt(record: ParsedRecord, r: FilingResult, at: datetime, original: bytes) -> str | None:
    """The CEB receipt for one block: it echoes the block's guid, names the enterprise that sent
    it (from the block, not the transfer node), and gives each problem with its CEB field path.
    A message refused as a whole (it fails the schema, or is no business message) gets the
    CEB900 format-check receipt."""
    refs = record.references
    problems = sorted(r.problems, key=lambda p: p.severity != "error")
    if record.kind == "unknown":
        return ceb.receipts.render_format_error(
            message_type=refs.get("message", record.source_ref),
            original_guid=refs.get("guid", ""),
            problems=[f"{p.path}: {p.message}" if p.path else p.message for p in problems],
            original=original,
            at=at,
        ).decode()
    if record.kind not in ceb.receipts.SHAPES:
        return None
    info = ceb.receipts.problem_info(record.kind, refs, [(p.path, p.message) for p in problems])
    return ceb.receipts.render(
        kind=record.kind, code=_ceb_code(record.kind, r), head=refs, info=info, at=at
    ).decode()


def _ceb_code(kind: str, r: FilingResult) -> str:
    if not r.accepted:
        return "100"  # 海关退单: refused, with the reasons
    if kind == "inventory":
        if r.status in (None, "filed"):
            return "120"  # on file; decided once its partners are
        lane = r.decision.lane if r.decision else None
        return ceb.ceb_status(r.status, lane=lane)
    if kind == "invalidation":
        return "399"  # the cancellation is adjudicated: the inventory is withdrawn
    if r.outcome == "unmatched":
        return "2"  # received; held for an officer before it may join the parcel
    return "120"


@dataclasses.dataclass(frozen=True, slots=True)
class _DmsExtra:
    mrn: str | None = None
    refund_id: str | None = None
    receipt: str | None = None


def _lodge_dms(
    svc: Services, filer: Filer, records: list[ParsedRecord]
) -> tuple[list[FilingResult], list[_DmsExtra]]:
    """EU DMS messages: MRNs, follow-ups by MRN/LRN, refunds after release, DMS answers."""
    lodged = dms.lodge(
        svc.pipeline,
        SqlDeclarationRegister(svc.engine),
        filer,
        records,
        returns=svc.accounts.returns if svc.accounts else None,
        reassess=svc.clearance.reassess,
    )
    at = svc.clock.now()
    extras = [
        _DmsExtra(
            x.mrn,
            x.refund.id if x.refund else None,
            dms.answer(x, record, svc.store, at).decode(),
        )
        for x, record in zip(lodged, records, strict=True)
    ]
    # a DMS declarant reads problems as XPaths into its declaration
    return [located(x.result) for x in lodged], extras


def located(r: FilingResult) -> FilingResult:
    """The result with every problem located by an XPath into the DMS declaration."""
    problems = [Problem(to_xpath(p.path), p.code, p.message, p.severity) for p in r.problems]
    return dataclasses.replace(r, problems=problems)


def _refused(answer: MessagesOut, problems: list[Problem]) -> Response:
    """Declarations all refused: a 422 problem document that also carries each DMS answer."""
    doc = ProblemDocument(
        type=problem_type("invalid-input"),
        title=HTTPStatus(422).phrase,
        status=422,
        detail="the declaration was refused; `problems` point into it with XPaths",
        problems=[ProblemItem(p.path, p.code, p.message, p.severity) for p in problems],
    )
    body: dict[str, Any] = msgspec.to_builtins(doc)
    body.update(msgspec.to_builtins(answer))  # format, accepted, rejected, results
    return Response(_ENC.encode(body), 422, media_type=PROBLEM_JSON)


@router.post(
    "/v1/messages",
    summary="File standard messages: EU H7 XML, China CEB XML, CSV, JSON",
    description=(
        "The format is detected from the content unless `format` is given. Each message (or "
        "CSV filing) gets a result, and XML formats get their receipt: the H7 answer or the "
        "CEB receipt with its status code (CEB311/411/511/621/623 are filed; CEB625 opens a "
        "return; CEB711 listing returned goods back claims their refund; CEB513 is checked "
        "and acknowledged; a message that fails the GACC schema gets a CEB900). See "
        "docs/formats.md for the mappings."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string"}} for t in MESSAGE_TYPES},
        }
    },
    responses={
        **responses({}, 400, 401, 403, 413, 415, 422),
        200: {
            "description": "A result per message",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        202: {
            "description": "A result per message; decisions follow (queued runtime)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
async def messages(
    request: Request,
    svc: ServicesDep,
    who: PrincipalDep,
    format: Annotated[str | None, Query(pattern="^(json|jsonl|h7|ceb|csv)$")] = None,
) -> Response:
    body = await read_body(request, svc.settings.max_body_bytes, MESSAGE_TYPES)
    if not body.strip():
        raise InvalidInput([Problem("/", "required", "the body is empty")])
    batch = await run_in_threadpool(lambda: parse(body, format, requests=True))
    if len(batch.records) > svc.settings.max_batch:
        raise InvalidInput(
            [Problem("/", "too_many", f"at most {svc.settings.max_batch} messages per request")]
        )
    filer = Filer(who.operator_id, who.operator, who.role)
    dms_extras: list[_DmsExtra] = []
    asked: dict[int, Answer] = {}  # CEB return requests, waybill statuses, warehouse entries
    if batch.format == "h7":
        results, dms_extras = await run_in_threadpool(_lodge_dms, svc, filer, batch.records)
    else:
        results, asked = await run_in_threadpool(
            process, svc, who, filer, batch.records, batch.format
        )
    count(request, results)
    at = datetime.now(UTC)
    outs: list[MessageResultOut] = []
    for i, (record, r) in enumerate(zip(batch.records, results, strict=True)):
        base: dict[str, Any] = msgspec.structs.asdict(result_out(r))
        extra = dms_extras[i] if dms_extras else _DmsExtra()
        outs.append(
            MessageResultOut(
                **base,
                kind=record.kind,
                source_ref=record.source_ref,
                receipt=extra.receipt
                or (
                    request_receipt(record, asked[i], at)
                    if i in asked
                    else receipt_for(batch.format, record, r, at, body)
                ),
                mrn=extra.mrn,
                refund_id=extra.refund_id or (asked[i].refund_id if i in asked else None),
                tax_status=asked[i].tax_status if i in asked else None,
            )
        )
    accepted = sum(1 for r in results if r.accepted)
    answer = MessagesOut(batch.format, accepted, len(results) - accepted, outs)
    if batch.format == "h7" and results and not accepted:
        return _refused(answer, [p for r in results for p in r.problems])
    return Response(
        _ENC.encode(answer),
        202 if any(awaits_decision(svc, r) for r in results) else 200,  # queued runtime
        media_type="application/json",
    )
