"""Officer pages: the work queue of held parcels and the consignment page with its actions.

Every action goes through `Clearance.act`, which records it as an event with the actor and the
status before and after (the audit trail shown in the timeline)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.clearance.handlers import ActionRequest
from clearway.kernel.codes import hs_problem, normalise_hs
from clearway.kernel.errors import ClearwayError, InvalidInput, NotFound, Problem
from clearway.kernel.money import parse_amount
from clearway.storage.web_repository import SORTS, QueueFilter
from clearway.web import core

router = APIRouter(route_class=core.PageRoute, include_in_schema=False)
IdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
OFFICER_PAGE_ACTIONS = (
    "request_documents",
    "record_inspection",
    "release",
    "seize",
    "return_to_sender",
)
_REASON_NEEDED = ("seize", "return_to_sender")


def queue_filter(
    lane: str | None,
    office: str | None,
    reason: str | None,
    authority: str | None,
    min_age_hours: int | None,
    sort: str,
    page: int,
) -> QueueFilter:
    return QueueFilter(
        lane=lane or None,
        office=office or None,
        reason=reason or None,
        authority=authority or None,
        min_age_hours=min_age_hours,
        sort=sort if sort in SORTS else "age",
        page=page,
    )


@router.get("/officer/")
async def queue(
    request: Request,
    lane: Annotated[str | None, Query(max_length=8)] = None,
    office: Annotated[str | None, Query(max_length=32)] = None,
    reason: Annotated[str | None, Query(max_length=300)] = None,
    authority: Annotated[str | None, Query(max_length=64)] = None,
    min_age_hours: Annotated[str | None, Query(max_length=6)] = None,
    sort: Annotated[str, Query(max_length=10)] = "age",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    core.need(request, "officer")
    hours = (min_age_hours or "").strip()
    if hours and not hours.isdigit():
        raise InvalidInput([Problem("/min_age_hours", "integer", "a whole number of hours")])
    f = queue_filter(lane, office, reason, authority, int(hours) if hours else None, sort, page)
    result = await run_in_threadpool(core.web_store(request).queue, f)
    return core.render(
        request, "officer_queue.html", {"f": f, "result": result, "sorts": list(SORTS)}
    )


def consignment_context(request: Request, consignment_id: str) -> dict[str, Any]:
    svc = core.services(request)
    store = core.web_store(request)
    c = svc.store.load(consignment_id)
    if c is None:
        raise NotFound(f"no consignment {consignment_id}")
    holds = svc.store.holds(c.id)
    by_authority: dict[str, list[Any]] = {}
    for h in holds:
        by_authority.setdefault(h.authority, []).append(h)
    return {
        "c": c,
        "doc": c.document,
        "decision": c.decision,
        "assessment": c.assessment,
        "holds_by_authority": by_authority,
        "open_holds": [h for h in holds if h.open],
        "filings": svc.store.filings_of(c.id),
        "events": svc.store.events_of(c.id),
        "routes": store.routes_of(c.id),
        "agencies": store.routing.agencies,
    }


@router.get("/officer/consignments/{consignment_id}")
async def consignment(
    request: Request, consignment_id: IdPath, done: str | None = None
) -> Response:
    core.need(request, "officer")
    ctx = await run_in_threadpool(consignment_context, request, consignment_id)
    ctx.update(
        {"actions": OFFICER_PAGE_ACTIONS, "done": done if done in OFFICER_PAGE_ACTIONS else None}
    )
    return core.render(request, "officer_consignment.html", ctx)


def action_request(fields: dict[str, str], actor: str) -> ActionRequest:
    """The officer's form as an action; every problem in the form is reported at once."""
    action = fields.get("action", "")
    problems: list[Problem] = []
    if action not in OFFICER_PAGE_ACTIONS:
        problems.append(Problem("/action", "enum", f"one of {', '.join(OFFICER_PAGE_ACTIONS)}"))
    reason = fields.get("reason", "").strip()[:1000] or None
    if action in _REASON_NEEDED and not reason:
        problems.append(Problem("/reason", "required", "say why"))
    found: bool | None = None
    corrected_value: Decimal | None = None
    corrected_hs: str | None = None
    if action == "record_inspection":
        found = {"yes": True, "no": False}.get(fields.get("found", ""))
        if found is None:
            problems.append(Problem("/found", "required", "say whether anything was found"))
        raw_value = fields.get("corrected_value", "").strip()
        if raw_value:
            try:
                corrected_value = parse_amount(raw_value)
            except ClearwayError as exc:
                problems.append(Problem("/corrected_value", "amount", exc.detail))
        raw_hs = normalise_hs(fields.get("corrected_hs_code", ""))
        if raw_hs:
            why = hs_problem(raw_hs)
            if why:
                problems.append(Problem("/corrected_hs_code", "hs_code", why))
            corrected_hs = raw_hs
    if problems:
        raise InvalidInput(problems, "the action form is not valid")
    return ActionRequest(
        action=action,
        actor=actor,
        reason=reason,
        found=found,
        corrected_value=corrected_value,
        corrected_hs_code=corrected_hs,
        notes=fields.get("notes", "").strip()[:2000] or None,
    )


@router.post("/officer/consignments/{consignment_id}/actions")
async def act(request: Request, consignment_id: IdPath) -> Response:
    who = core.need(request, "officer")
    fields = await core.form_of(request)
    svc = core.services(request)
    try:
        req = action_request(fields, who.actor)
        await run_in_threadpool(svc.clearance.act, consignment_id, req)
    except (NotFound, core.BadForm):
        raise
    except ClearwayError as exc:
        # Show the refusal on the consignment page itself, with its status.
        ctx = await run_in_threadpool(consignment_context, request, consignment_id)
        ctx.update(
            {
                "actions": OFFICER_PAGE_ACTIONS,
                "error": exc.detail,
                "problems": exc.problems if isinstance(exc, InvalidInput) else [],
                "done": None,
            }
        )
        return core.render(request, "officer_consignment.html", ctx, exc.status)
    return core.redirect(request, f"/officer/consignments/{consignment_id}?done={req.action}")
