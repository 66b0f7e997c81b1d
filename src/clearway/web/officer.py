"""Officer pages: the work queue of held parcels with one search box, and the consignment page
with the actions its status allows.

Every action goes through `Clearance.act` (or `Clearance.record_payment`), which records it as an
event with the actor and the status before and after (the audit trail shown in the timeline).
A refused action shows the page again with the typed values kept and the problems beside them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.clearance.handlers import ActionRequest
from clearway.domain.lifecycle import FINAL_STATUSES, TRANSITIONS
from clearway.kernel.codes import hs_problem, normalise_hs
from clearway.kernel.errors import ClearwayError, InvalidInput, NotFound, Problem
from clearway.storage import record_view
from clearway.storage.dms_register import SqlDeclarationRegister
from clearway.storage.web_repository import SORTS, QueueFilter
from clearway.storage.web_search import search
from clearway.web import core, formats
from clearway.web import lane as lanes
from clearway.web.labels import PAGE_ACTIONS

router = APIRouter(route_class=core.PageRoute, include_in_schema=False)
IdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
OFFICER_PAGE_ACTIONS = PAGE_ACTIONS
# Page action -> lifecycle action that must be allowed from the parcel's status
_LIFECYCLE = {
    "record_inspection": "inspect",
    "request_documents": "request_documents",
    "hold": "hold",
    "lift_hold": "lift_hold",
    "release": "release",
    "seize": "seize",
    "return_to_sender": "return_to_sender",
}
_REASON_NEEDED = ("seize", "return_to_sender", "hold", "lift_hold")


def queue_filter(
    lane_: str | None,
    office: str | None,
    reason: str | None,
    authority: str | None,
    min_age_hours: int | None,
    sort: str,
    page: int,
) -> QueueFilter:
    return QueueFilter(
        lane=lane_ or None,
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
    q: Annotated[str | None, Query(max_length=100)] = None,
    lane: Annotated[str | None, Query(max_length=8)] = None,
    office: Annotated[str | None, Query(max_length=32)] = None,
    reason: Annotated[str | None, Query(max_length=300)] = None,
    authority: Annotated[str | None, Query(max_length=64)] = None,
    min_age_hours: Annotated[str | None, Query(max_length=6)] = None,
    sort: Annotated[str, Query(max_length=10)] = "age",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    core.need(request, "officer")
    store = core.web_store(request)
    now = core.services(request).clock.now()
    found = None
    if q and q.strip():
        found = await run_in_threadpool(search, store.engine, q, now)
        if len(found) == 1:  # one parcel: go straight to it
            return core.redirect(request, f"/officer/consignments/{found[0].id}")
    hours = (min_age_hours or "").strip()
    if hours and not hours.isdigit():
        raise InvalidInput([Problem("/min_age_hours", "integer", "a whole number of hours")])
    f = queue_filter(lane, office, reason, authority, int(hours) if hours else None, sort, page)
    result = await run_in_threadpool(store.queue, f)
    return core.render(
        request,
        "officer_queue.html",
        {
            "f": f,
            "q": q or "",
            "found": found,
            "result": result,
            "sorts": list(SORTS),
            "now": now,
            "agencies": store.routing.agencies,
        },
    )


def consignment_context(request: Request, consignment_id: str) -> dict[str, Any]:
    svc = core.services(request)
    store = core.web_store(request)
    # the parcel as its tamper-evident record says, checked against the rows (docs/integrity.md)
    served = record_view.load(svc.engine, consignment_id)
    if served is None:
        raise NotFound(f"no consignment {consignment_id}")
    c = served.consignment
    holds = svc.store.holds(c.id)
    by_authority: dict[str, list[Any]] = {}
    for h in holds:
        by_authority.setdefault(h.authority, []).append(h)
    policy = lanes.policy_of(svc.selector)
    register = SqlDeclarationRegister(svc.engine)  # EU DMS: the declaration's MRN
    return {
        "c": c,
        "doc": c.document,
        "decision": c.decision,
        "why_lane": lanes.explain(c.decision, policy) if c.decision else None,
        "assessment": c.assessment,
        "holds_by_authority": by_authority,
        "open_holds": [h for h in holds if h.open],
        "filings": svc.store.filings_of(c.id),
        "events": served.events,
        "routes": store.routes_of(c.id),
        "agencies": store.routing.agencies,
        "now": svc.clock.now(),
        "mrn": entry.mrn if (entry := register.of_consignment(c.id)) else None,
        "record_break": served.broken,
    }


def offered(ctx: dict[str, Any]) -> dict[str, Any]:
    """The actions the parcel's status allows, and what still keeps it from release."""
    c = ctx["c"]
    open_holds = ctx["open_holds"]
    allowed = {a for a, step in _LIFECYCLE.items() if (c.status, step) in TRANSITIONS}
    customs = [h for h in open_holds if h.authority == "customs"]
    if not customs:
        allowed.discard("lift_hold")
    if c.payment_status == "due" and c.status not in FINAL_STATUSES:
        allowed.add("record_payment")
    blockers: list[tuple[str, str]] = []
    if "release" in allowed:
        for h in open_holds:
            if h.authority != "customs":
                blockers.append(("agency", ctx["agencies"].get(h.authority, h.authority)))
        if c.payment_status == "due":
            blockers.append(("payment", ""))
    return {
        "allowed": allowed,
        "blockers": blockers,
        "customs_holds": customs,
        "can_release": "release" in allowed and not blockers,
    }


@router.get("/officer/consignments/{consignment_id}")
async def consignment(
    request: Request, consignment_id: IdPath, done: str | None = None
) -> Response:
    core.need(request, "officer")
    ctx = await run_in_threadpool(consignment_context, request, consignment_id)
    ctx.update(offered(ctx))
    ctx.update(
        {
            "done": done if done in OFFICER_PAGE_ACTIONS else None,
            "form": {},
            "form_action": "",
            "invalid_fields": set(),
            "first_invalid": "",
        }
    )
    return core.render(request, "officer_consignment.html", ctx)


def action_request(
    fields: dict[str, str], actor: str, fmt: formats.Formats, items: int
) -> ActionRequest:
    """The officer's form as an action; every problem in the form is reported at once."""
    action = fields.get("action", "")
    problems: list[Problem] = []
    if action not in OFFICER_PAGE_ACTIONS or action == "record_payment":
        problems.append(Problem("/action", "enum", f"one of {', '.join(OFFICER_PAGE_ACTIONS)}"))
    reason = fields.get("reason", "").strip()[:1000] or None
    if action in _REASON_NEEDED and not reason:
        problems.append(Problem("/reason", "required", "say why"))
    found: bool | None = None
    corrected_value: Decimal | None = None
    corrected_hs: str | None = None
    item = 0
    if action == "record_inspection":
        found = {"yes": True, "no": False}.get(fields.get("found", ""))
        if found is None:
            problems.append(Problem("/found", "required", "say whether anything was found"))
        raw_value = fields.get("corrected_value", "").strip()
        if raw_value:
            try:
                corrected_value = fmt.parse(raw_value)
            except formats.NotANumber:
                problems.append(Problem("/corrected_value", "number", raw_value))
            else:
                if corrected_value < 0:
                    problems.append(Problem("/corrected_value", "negative", raw_value))
        raw_hs = normalise_hs(fields.get("corrected_hs_code", ""))
        if raw_hs:
            why = hs_problem(raw_hs)
            if why:
                problems.append(Problem("/corrected_hs_code", "hs_code", why))
            corrected_hs = raw_hs
        raw_item = fields.get("corrected_item", "1").strip() or "1"
        if not raw_item.isdigit() or not 1 <= int(raw_item) <= items:
            problems.append(Problem("/corrected_item", "range", f"an item from 1 to {items}"))
        else:
            item = int(raw_item) - 1
    if problems:
        raise InvalidInput(problems, "the action form is not valid")
    return ActionRequest(
        action=action,
        actor=actor,
        reason=reason,
        found=found,
        corrected_value=corrected_value,
        corrected_hs_code=corrected_hs,
        corrected_item=item,
        notes=fields.get("notes", "").strip()[:2000] or None,
        hold_id=fields.get("hold_id") or None,
    )


def _payment(fields: dict[str, str], fmt: formats.Formats) -> tuple[Decimal, str, str]:
    problems: list[Problem] = []
    amount = Decimal(0)
    raw = fields.get("amount", "").strip()
    try:
        amount = fmt.parse(raw)
    except formats.NotANumber:
        problems.append(Problem("/amount", "number", raw))
    reference = fields.get("reference", "").strip()[:100]
    if not reference:
        problems.append(Problem("/reference", "required", "the payment's reference"))
    if problems:
        raise InvalidInput(problems, "the payment form is not valid")
    return amount, fields.get("currency", "").strip().upper()[:3], reference


@router.post("/officer/consignments/{consignment_id}/actions")
async def act(request: Request, consignment_id: IdPath) -> Response:
    who = core.need(request, "officer")
    fields = await core.form_of(request)
    svc = core.services(request)
    fmt = formats.for_lang(core.language(request))
    action = fields.get("action", "")
    try:
        c = await run_in_threadpool(svc.store.load, consignment_id)
        if c is None:
            raise NotFound(f"no consignment {consignment_id}")
        if action == "record_payment":
            amount, currency, reference = _payment(fields, fmt)
            await run_in_threadpool(
                svc.clearance.record_payment, consignment_id, amount, currency, reference, who.actor
            )
        else:
            req = action_request(fields, who.actor, fmt, len(c.document.items))
            await run_in_threadpool(svc.clearance.act, consignment_id, req)
    except (NotFound, core.BadForm):
        raise
    except ClearwayError as exc:
        # Show the refusal on the consignment page itself, with its status and the typed values.
        ctx = await run_in_threadpool(consignment_context, request, consignment_id)
        ctx.update(offered(ctx))
        problems = exc.problems if isinstance(exc, InvalidInput) else []
        ctx.update(
            {
                "error": exc.detail,
                "problems": problems,
                "invalid_fields": {p.path.strip("/") for p in problems},
                "first_invalid": problems[0].path.strip("/") if problems else "",
                "done": None,
                "form": fields,
                "form_action": action,
            }
        )
        return core.render(request, "officer_consignment.html", ctx, exc.status)
    return core.redirect(request, f"/officer/consignments/{consignment_id}?done={action}")
