"""Agency pages (Single Window): the parcels routed to one agency, and its holds on them.

An agency sees only consignments its routing rules select; it places and lifts its own holds
through `Clearance.act` with its code as the authority; customs cannot release while one is open.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.clearance.handlers import ActionRequest
from clearway.domain.lifecycle import TRANSITIONS
from clearway.kernel.errors import ClearwayError, InvalidInput, NotFound, Problem
from clearway.storage.agency_routing import Routing
from clearway.storage.web_repository import SORTS, QueueFilter, WebPrincipal
from clearway.web import core
from clearway.web.officer import consignment_context

router = APIRouter(route_class=core.PageRoute, include_in_schema=False)
IdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


def agency_of(request: Request, who: WebPrincipal, asked: str | None) -> str:
    """The agency the person acts for; an admin may look at any agency's view."""
    agencies = core.web_store(request).routing.agencies
    code = who.agency if who.role == "agency" else (asked or next(iter(agencies)))
    if code not in agencies:
        raise NotFound(f"no agency {code}")
    return str(code)


@router.get("/agency/")
async def queue(
    request: Request,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    held: bool = False,
    sort: Annotated[str, Query(max_length=10)] = "newest",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    who = core.need(request, "agency")
    code = agency_of(request, who, agency)
    store = core.web_store(request)
    await run_in_threadpool(store.sweep)
    f = QueueFilter(sort=sort if sort in SORTS else "newest", page=page)
    result = await run_in_threadpool(store.agency_queue, code, f, held)
    return core.render(
        request,
        "agency_queue.html",
        {
            "agency": code,
            "agency_name": store.routing.agencies[code],
            "agencies": store.routing.agencies,
            "sees_amounts": code in store.routing.sees_amounts,
            "result": result,
            "held": held,
            "f": f,
            "sorts": list(SORTS),
            "now": core.services(request).clock.now(),
        },
    )


@router.get("/agency/consignments/{consignment_id}")
async def consignment(
    request: Request,
    consignment_id: IdPath,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    done: str | None = None,
) -> Response:
    who = core.need(request, "agency")
    code = agency_of(request, who, agency)
    store = core.web_store(request)
    await run_in_threadpool(store.require_routed, consignment_id, code)
    ctx = await run_in_threadpool(consignment_context, request, consignment_id)
    ctx.update(_agency_ctx(code, store.routing, ctx, done))
    return core.render(request, "agency_consignment.html", ctx)


def _agency_ctx(
    code: str, routing: Routing, ctx: dict[str, Any], done: str | None
) -> dict[str, Any]:
    """What the agency's mandate lets it see: its holds, the goods and parties; amounts only
    when configured (`sees_amounts` in agency_routing.yaml); never customs' targeting."""
    mine = [h for h in ctx["open_holds"] if h.authority == code]
    # the agency's clearance: customs need not wait for it at arrival (or goes on after it)
    can_clear = (ctx["c"].status, "clear") in TRANSITIONS
    return {
        "agency": code,
        "agency_name": routing.agencies[code],
        "my_holds": mine,
        "can_clear": can_clear,
        "mandate": True,
        "sees_amounts": code in routing.sees_amounts,
        "done": done if done in ("hold", "lift_hold", "clear") else None,
        "form": {},
    }


@router.post("/agency/consignments/{consignment_id}/holds")
async def hold(request: Request, consignment_id: IdPath) -> Response:
    who = core.need(request, "agency")
    fields = await core.form_of(request)
    code = agency_of(request, who, fields.get("agency"))
    store = core.web_store(request)
    svc = core.services(request)
    await run_in_threadpool(store.require_routed, consignment_id, code)
    action = fields.get("action", "")
    reason = fields.get("reason", "").strip()[:1000]
    try:
        problems = []
        if action not in ("hold", "lift_hold", "clear"):
            problems.append(Problem("/action", "enum", "hold, lift_hold or clear"))
        if not reason and action != "clear":  # a clearance may go without a note
            problems.append(Problem("/reason", "required", "an agency hold or lift needs a reason"))
        if problems:
            raise InvalidInput(problems, "the hold form is not valid")
        req = ActionRequest(action=action, actor=who.actor, reason=reason, authority=code)
        await run_in_threadpool(svc.clearance.act, consignment_id, req)
    except ClearwayError as exc:
        if isinstance(exc, NotFound):
            raise
        ctx = await run_in_threadpool(consignment_context, request, consignment_id)
        ctx.update(_agency_ctx(code, store.routing, ctx, None))
        ctx.update(
            {
                "error": exc.detail,
                "problems": exc.problems if isinstance(exc, InvalidInput) else [],
                "form": fields,
            }
        )
        return core.render(request, "agency_consignment.html", ctx, exc.status)
    suffix = f"&agency={code}" if who.role != "agency" else ""
    return core.redirect(request, f"/agency/consignments/{consignment_id}?done={action}{suffix}")
