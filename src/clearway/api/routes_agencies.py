"""Single Window agencies: the parcels routed to an agency, and its holds on them.

An agency's API key belongs to an operator named by its agency code (`clearway keys create
--operator food_safety --role agency`); it sees only consignments its routing rules select and
places or lifts only its own holds. Customs cannot release a parcel while any agency hold is open.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.deps import PrincipalDep, ServicesDep, decode_as, read_body, require
from clearway.api.openapi import responses
from clearway.clearance.handlers import ActionRequest
from clearway.kernel.errors import Forbidden, InvalidInput, NotFound, Problem
from clearway.storage.repository import Principal
from clearway.storage.web_repository import QueueFilter, WebStore
from clearway.wiring.services import Services

router = APIRouter(tags=["agencies"])
AgencyPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
IdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class AgencyHoldIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Literal["hold", "lift_hold", "clear"]
    reason: str
    hold_id: str | None = None


_HOLD_SCHEMA = {
    "type": "object",
    "required": ["action", "reason"],
    "additionalProperties": False,
    "properties": {
        "action": {"enum": ["hold", "lift_hold", "clear"]},
        "reason": {"type": "string", "minLength": 1, "maxLength": 1000},
        "hold_id": {"type": ["string", "null"]},
    },
}
_HOLD_OUT = {
    "type": "object",
    "required": ["consignment_id", "status", "open_holds"],
    "properties": {
        "consignment_id": {"type": "string"},
        "status": {"type": "string"},
        "open_holds": {"type": "array", "items": {"type": "object"}},
    },
}
_LIST_OUT = {
    "type": "object",
    "required": ["agency", "total", "page", "consignments"],
    "properties": {
        "agency": {"type": "string"},
        "total": {"type": "integer"},
        "page": {"type": "integer"},
        "consignments": {"type": "array", "items": {"type": "object"}},
    },
}


def _ok(schema: dict[str, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    out = responses({}, *errors)
    out[200] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    return out


def _store(request: Request, svc: Services) -> WebStore:
    store: WebStore | None = getattr(request.app.state, "web_store", None)
    if store is None:
        store = WebStore(svc.engine, svc.clock)
        request.app.state.web_store = store
    return store


def _agency(store: WebStore, who: Principal, agency: str) -> str:
    require(who, "agency")
    if agency not in store.routing.agencies:
        raise NotFound(f"no agency {agency}")
    if who.role == "agency" and who.operator != agency:
        raise Forbidden(f"this key acts for {who.operator}, not {agency}")
    return agency


def _json(obj: object) -> Response:
    return Response(msgspec.json.encode(obj), media_type="application/json")


@router.get(
    "/v1/agencies/{agency}/consignments",
    summary="Open consignments routed to an agency (optionally only those it holds)",
    responses=_ok(_LIST_OUT, 401, 403, 404, 422),
)
def routed(
    agency: AgencyPath,
    request: Request,
    svc: ServicesDep,
    who: PrincipalDep,
    held: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    store = _store(request, svc)
    code = _agency(store, who, agency)
    store.sweep()
    result = store.agency_queue(code, QueueFilter(sort="newest", page=page), only_held=held)
    return _json(
        {
            "agency": code,
            "total": result.total,
            "page": result.page,
            "consignments": [
                {
                    "id": r.id,
                    "transport_document": r.transport_document,
                    "status": r.status,
                    "destination_country": r.destination_country,
                    "routed_because": r.routed_because,
                    "open_holds": [{"authority": a, "reason": why} for a, why in r.holds],
                }
                for r in result.rows
            ],
        }
    )


@router.post(
    "/v1/agencies/{agency}/consignments/{consignment_id}/holds",
    summary="Place or lift the agency's hold on a consignment routed to it, with a reason",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _HOLD_SCHEMA}}}
    },
    responses=_ok(_HOLD_OUT, 400, 401, 403, 404, 409, 413, 415, 422),
)
async def hold(
    agency: AgencyPath,
    consignment_id: IdPath,
    request: Request,
    svc: ServicesDep,
    who: PrincipalDep,
) -> Response:
    store = _store(request, svc)
    code = _agency(store, who, agency)
    body = decode_as(await read_body(request, 16 * 1024), AgencyHoldIn)
    if not body.reason.strip() or len(body.reason) > 1000:
        raise InvalidInput([Problem("/reason", "length", "1 to 1000 characters")])
    await run_in_threadpool(store.require_routed, consignment_id, code)
    req = ActionRequest(
        action=body.action,
        actor=f"agency:{code}" if who.role == "agency" else f"{who.role}:{who.operator}",
        reason=body.reason.strip(),
        authority=code,
        hold_id=body.hold_id,
    )
    c = await run_in_threadpool(svc.clearance.act, consignment_id, req)
    open_holds = await run_in_threadpool(svc.store.open_holds, [c.id])
    return _json(
        {
            "consignment_id": c.id,
            "status": c.status,
            "open_holds": [
                {"id": h.id, "authority": h.authority, "reason": h.reason}
                for h in open_holds.get(c.id, [])
            ],
        }
    )
