"""Consignments: read one; officer actions; consumer payment; arrivals; the notices feed."""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.access import (
    capacity_on,
    may_record_payment,
    presentable,
    served_access,
    standing_legs,
)
from clearway.api.deps import PrincipalDep, ServicesDep, decode_as, read_body, require
from clearway.api.openapi import body_schema, responses
from clearway.api.schemas import (
    ActionIn,
    ArrivalIn,
    ArrivalOut,
    ArrivalsOut,
    ConsignmentOut,
    EventOut,
    FilingRef,
    HoldOut,
    NoticeOut,
    NoticesOut,
    PaymentIn,
)
from clearway.api.views import Capacity, PartyViewOut, cut_notice, party_view
from clearway.clearance.dms import DeclarationEntry
from clearway.clearance.handlers import ActionRequest, ArrivalResult
from clearway.kernel.errors import InvalidInput, NotFound, Problem
from clearway.storage import record_view
from clearway.storage.dms_register import SqlDeclarationRegister
from clearway.storage.record_view import Served
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

router = APIRouter(tags=["consignments"])
_ENC = msgspec.json.Encoder(decimal_format="string")
MAX_ARRIVALS = 10_000
IdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


def _json(obj: object, status: int = 200) -> Response:
    return Response(_ENC.encode(obj), status, media_type="application/json")


def _declaration(svc: Services, consignment_id: str) -> DeclarationEntry | None:
    return SqlDeclarationRegister(svc.engine).of_consignment(consignment_id)


def consignment_out(
    svc: Services,
    consignment_id: str,
    shown: set[str] | None = None,
    served: Served | None = None,
) -> ConsignmentOut:
    """The whole consignment as its record says (`storage/record_view.py`), and whether its
    stored rows agree; `shown` limits the filings listed to these operators' (a declarant is
    not told about legs that did not stand)."""
    served = served or record_view.load(svc.engine, consignment_id)
    if served is None:
        raise NotFound(f"no consignment {consignment_id}")
    c, broken = served.consignment, served.broken
    return ConsignmentOut(
        id=c.id,
        transport_document=c.transport_document,
        status=c.status,
        payment_status=c.payment_status,
        version=c.version,
        document=c.document,
        decision=c.decision,
        assessment=c.assessment,
        holds=[
            HoldOut(
                h.id,
                h.authority,
                h.reason,
                h.placed_by,
                h.placed_at,
                h.lifted_by,
                h.lifted_at,
                h.lift_reason,
            )
            for h in svc.store.holds(c.id)
        ],
        filings=[
            FilingRef(
                f["id"],
                f["operator"],
                f["role"],
                f["filer_reference"],
                f["version"],
                f["format"],
                f["received_at"],
            )
            for f in svc.store.filings_of(c.id)
            if shown is None or f["operator_id"] in shown
        ],
        events=[
            EventOut(e.kind, e.at, e.actor, e.from_status, e.to_status, e.data)
            for e in served.events
        ],
        mrn=entry.mrn
        if (entry := SqlDeclarationRegister(svc.engine).of_consignment(c.id))
        else None,
        record_intact=served.intact,
        record_break=f"{broken.kind} {broken.where}: {broken.what}" if broken else None,
    )


@router.get(
    "/v1/consignments/{consignment_id}",
    summary="A consignment: status, decision with reasons, assessment, holds, event timeline",
    description=(
        "Declarants and officers get the whole consignment (`ConsignmentOut`); a party that "
        "attached a payment, waybill or order record gets its leg's view (`PartyViewOut`): "
        "status, release or hold, the amount due or the transport data — never the consignee, "
        "the goods or the other legs."
    ),
    responses={
        **responses({}, 401, 404, 422),
        200: {
            "description": "The consignment, as far as the caller may see it",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/ConsignmentOut"},
                            {"$ref": "#/components/schemas/PartyViewOut"},
                        ]
                    }
                }
            },
        },
    },
)
def get_consignment(consignment_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    return _json(view_for(svc, who, consignment_id))


def view_for(svc: Services, who: Principal, consignment_id: str) -> ConsignmentOut | PartyViewOut:
    """The consignment as far as the caller may see it (404 when not at all)."""
    served, cap, standing = served_access(svc, who, consignment_id)
    c = served.consignment
    if cap != "full":
        mine = [
            leg.reference.split("/", 1)[1]
            for leg in standing
            if leg.reference.startswith(f"{who.operator_id}/")
        ]
        return party_view(c, cap, mine)
    shown = None if who.sees_everything else {leg.reference.split("/", 1)[0] for leg in standing}
    return consignment_out(svc, consignment_id, shown, served)


@router.post(
    "/v1/consignments/{consignment_id}/actions",
    summary="Officer actions: request documents, record inspection, hold, lift hold, release…",
    openapi_extra=body_schema("ActionIn"),
    responses=responses({200: "ConsignmentOut"}, 400, 401, 403, 404, 409, 413, 415, 422),
)
async def act(
    consignment_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body = decode_as(await read_body(request, 64 * 1024), ActionIn)
    req = ActionRequest(
        action=body.action,
        actor=f"{who.role}:{who.operator}",
        reason=body.reason,
        found=body.found,
        corrected_value=body.corrected_value,
        corrected_hs_code=body.corrected_hs_code,
        notes=body.notes,
        hold_id=body.hold_id,
        resolution=body.resolution,
    )
    await run_in_threadpool(svc.clearance.act, consignment_id, req)
    return _json(await run_in_threadpool(consignment_out, svc, consignment_id))


@router.post(
    "/v1/consignments/{consignment_id}/payments",
    summary="Record the consignee's payment of what is due; releases a parcel held only for it",
    openapi_extra=body_schema("PaymentIn"),
    responses=responses({200: "ConsignmentOut"}, 400, 401, 403, 404, 409, 413, 415, 422),
)
async def pay(
    consignment_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer", "payment_provider", "post", "carrier", "broker")
    # before the body is read: a stranger learns nothing, not even the amount due
    await run_in_threadpool(may_record_payment, svc, who, consignment_id)
    body = decode_as(await read_body(request, 16 * 1024), PaymentIn)
    await run_in_threadpool(
        svc.clearance.record_payment,
        consignment_id,
        body.amount,
        body.currency.upper(),
        body.reference,
        f"{who.role}:{who.operator}",
    )
    return _json(await run_in_threadpool(view_for, svc, who, consignment_id))


@router.post(
    "/v1/arrivals",
    summary="A carrier or post presents parcels; per parcel: release, hold (why) or unknown",
    openapi_extra=body_schema("ArrivalIn"),
    responses=responses({200: "ArrivalsOut"}, 400, 401, 403, 413, 415, 422),
)
async def arrivals(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "carrier", "post", "officer", "broker")
    body = decode_as(await read_body(request, 4 * 1024 * 1024), ArrivalIn)
    if not body.transport_documents or len(body.transport_documents) > MAX_ARRIVALS:
        raise InvalidInput(
            [Problem("/transport_documents", "range", f"1 to {MAX_ARRIVALS} documents")]
        )
    # An operator presents only parcels it declared or carries; others read as unknown and are
    # left untouched, so it learns nothing about other operators' parcels.
    tds = await run_in_threadpool(presentable, svc, who, body.transport_documents)
    done = {
        r.transport_document: r
        for r in await run_in_threadpool(
            svc.clearance.arrive, tds, f"{who.role}:{who.operator}", body.office
        )
    }
    results = [
        done.get(td) or ArrivalResult(td, "unknown", reasons=["no filing for this parcel"])
        for td in body.transport_documents
    ]
    return _json(
        ArrivalsOut(
            [
                ArrivalOut(r.transport_document, r.answer, r.consignment_id, r.status, r.reasons)
                for r in results
            ]
        )
    )


@router.get(
    "/v1/notices",
    summary="Your feed of decisions and status changes on your parcels, after a cursor",
    responses=responses({200: "NoticesOut"}, 401, 422),
)
def notices(
    svc: ServicesDep,
    who: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    rows = svc.store.notices_after(who.operator_id, after, limit)
    views = notice_views(svc, who, {str(n.get("consignment_id")) for _, n in rows})
    shown = [
        NoticeOut(cursor, cut)
        for cursor, n in rows
        if (cut := cut_notice(n, views.get(str(n.get("consignment_id"))))) is not None
    ]
    return _json(NoticesOut(shown, rows[-1][0] if rows else after))


def notice_views(svc: Services, who: Principal, ids: set[str]) -> dict[str, Capacity | None]:
    """The caller's capacity on each parcel of a page of notices (what it may read of each)."""
    loaded = svc.store.load_many(sorted(ids)) if ids else {}
    legs = svc.store.legs_of(list(loaded)) if loaded else {}
    return {
        cid: capacity_on(c, standing_legs(svc, c, legs.get(cid, [])), who)
        for cid, c in loaded.items()
    }
