"""Filings in: one or a batch; the answer carries the consignment, its status and decision."""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.deps import Malformed, PrincipalDep, ServicesDep, read_body
from clearway.api.group_commit import GroupCommit
from clearway.api.openapi import body_schema, responses
from clearway.api.runtime import awaits_decision
from clearway.api.schemas import BatchOut, FilingResultOut, ProblemItem
from clearway.clearance.intake import submission
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.kernel.characters import unsafe_character
from clearway.kernel.errors import Conflict, InvalidInput, NotFound, Problem
from clearway.kernel.strict_json import StrictJson

router = APIRouter(tags=["filings"])
_ENC = msgspec.json.Encoder(decimal_format="string")


def count(request: Request, results: list[FilingResult]) -> None:
    """Feed the Prometheus counters: filings by outcome, decisions by lane or referral."""
    filings = request.app.state.filings_counter
    decisions = request.app.state.decisions_counter
    for r in results:
        filings.labels(r.outcome).inc()
        if r.decision is not None and r.outcome in ("accepted", "amended", "attached"):
            decisions.labels(r.decision.lane or r.decision.referral or "none").inc()


def result_out(r: FilingResult) -> FilingResultOut:
    return FilingResultOut(
        r.index,
        r.outcome,
        r.filer_reference,
        r.consignment_id,
        r.status,
        r.version,
        r.decision,
        [ProblemItem(p.path, p.code, p.message, p.severity) for p in r.problems],
    )


@router.post(
    "/v1/filings",
    summary="File one canonical filing document",
    openapi_extra=body_schema("FilingDocument"),
    responses=responses(
        {200: "FilingResultOut", 201: "FilingResultOut", 202: "FilingResultOut"},
        400,
        401,
        403,
        409,
        413,
        415,
        422,
    ),
)
async def file_one(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    body = await read_body(request, svc.settings.max_body_bytes)
    sub = submission(body)
    filer = Filer(who.operator_id, who.operator, who.role)
    # filed with whatever else this filer sends at the same moment: one batch, one commit
    grouped: GroupCommit = request.app.state.group_commit
    result = await grouped.file(filer, sub)
    count(request, [result])
    if result.outcome == "rejected":
        raise InvalidInput(result.problems, "the filing is not valid; see problems")
    if result.outcome == "conflict":
        raise Conflict(
            result.problems[0].message if result.problems else "conflict", result.problems
        )
    # 202: held for an officer (it may not join the parcel it names); 201: stored anew
    status = {"accepted": 201, "amended": 201, "unmatched": 202}.get(result.outcome, 200)
    if awaits_decision(svc, result):
        status = 202  # queued runtime: stored, decided by a worker (notices feed, GET)
    return Response(_ENC.encode(result_out(result)), status, media_type="application/json")


@router.post(
    "/v1/filings/batch",
    summary="File up to 1,000 canonical filing documents (a JSON array); a result per filing",
    openapi_extra=body_schema("FilingDocument", array=True),
    responses=responses({200: "BatchOut", 202: "BatchOut"}, 400, 401, 403, 413, 415, 422),
)
async def file_batch(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    body = await read_body(request, svc.settings.max_body_bytes)
    strict = StrictJson(body)
    if strict.problem is not None:
        raise Malformed(strict.problem.message, [strict.problem])
    try:
        raw = msgspec.json.decode(body, type=list[msgspec.Raw])
    except msgspec.ValidationError as exc:
        raise InvalidInput([Problem("/", "type", "expected a JSON array of filings")]) from exc
    except msgspec.DecodeError as exc:
        raise Malformed(f"not valid JSON: {exc}") from exc
    if not raw:
        raise InvalidInput([Problem("/", "required", "the batch is empty")])
    if len(raw) > svc.settings.max_batch:
        raise InvalidInput(
            [Problem("/", "too_many", f"at most {svc.settings.max_batch} filings per batch")]
        )
    subs = [submission(bytes(one)) for one in raw]
    filer = Filer(who.operator_id, who.operator, who.role)
    results = await run_in_threadpool(svc.pipeline.process, filer, subs)
    count(request, results)
    outs = [result_out(r) for r in results]
    accepted = sum(1 for r in results if r.accepted)
    return Response(
        _ENC.encode(BatchOut(accepted, len(results) - accepted, outs)),
        202 if any(awaits_decision(svc, r) for r in results) else 200,
        media_type="application/json",
    )


@router.delete(
    "/v1/filings/{filer_reference}",
    summary="Withdraw a filing before the parcel arrives (EU H7 invalidation, CEB cancellation)",
    description=(
        "The filer's own declaration, named by its filer reference, is withdrawn: the parcel is "
        "invalidated and every party that filed about it gets an `invalidated` notice. After "
        "arrival a withdrawal is a 409 (ask an officer); withdrawing twice answers the same."
    ),
    responses=responses({200: "FilingResultOut"}, 401, 403, 404, 409, 422),
)
async def withdraw(
    filer_reference: Annotated[str, Path(min_length=1, max_length=100)],
    request: Request,
    svc: ServicesDep,
    who: PrincipalDep,
) -> Response:
    why = unsafe_character(filer_reference)
    if why:
        raise InvalidInput([Problem("/filer_reference", "unsafe_character", why)])
    filer = Filer(who.operator_id, who.operator, who.role)
    sub = Submission(None, action="cancel", reference=filer_reference)
    [result] = await run_in_threadpool(svc.pipeline.process, filer, [sub])
    count(request, [result])
    if result.outcome == "rejected":
        raise NotFound(f"no filing {filer_reference!r} of yours to withdraw", result.problems)
    if result.outcome == "conflict":
        detail = result.problems[0].message if result.problems else "cannot withdraw"
        raise Conflict(detail, result.problems)
    return Response(_ENC.encode(result_out(result)), 200, media_type="application/json")
