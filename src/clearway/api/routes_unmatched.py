"""Officers: legs held as unmatched (they named another operator's parcel without standing).

Such a leg is stored whole and told to nobody but customs. An officer reads why it was held,
and closes it with a note — typically after asking the parcel's declarant to name the party
(its carrier, post or payment provider) in an amendment, after which the party's record is
sent again and joins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.deps import PrincipalDep, ServicesDep, decode_as, read_body, require
from clearway.api.openapi import inline_schema, responses
from clearway.storage.unmatched import UnmatchedLegs, UnmatchedRow

router = APIRouter(tags=["consignments"])
_ENC = msgspec.json.Encoder(decimal_format="string")
LegId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]


class UnmatchedOut(msgspec.Struct, omit_defaults=True):
    id: str
    consignment_id: str
    operator_id: str
    role: str
    kind: str
    filer_reference: str
    format: str
    reason: str
    received_at: datetime
    status: str
    document: dict[str, Any]
    closed_by: str | None = None
    closed_at: datetime | None = None
    note: str | None = None


class UnmatchedListOut(msgspec.Struct):
    legs: list[UnmatchedOut]


class CloseIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


def _out(r: UnmatchedRow) -> UnmatchedOut:
    return UnmatchedOut(
        r.id,
        r.consignment_id,
        r.operator_id,
        r.role,
        r.kind,
        r.filer_reference,
        r.format,
        r.reason,
        r.received_at,
        r.status,
        msgspec.json.decode(r.body),
        r.closed_by,
        r.closed_at,
        r.note,
    )


def _ok(schema: type) -> dict[int | str, dict[str, object]]:
    return {
        200: {
            "description": "OK",
            "content": {"application/json": {"schema": inline_schema(schema)}},
        }
    }


@router.get(
    "/v1/unmatched-legs",
    summary="Officers: legs held because they may not join the parcel they name",
    responses={**responses({}, 401, 403, 422), **_ok(UnmatchedListOut)},
)
def list_unmatched(
    svc: ServicesDep,
    who: PrincipalDep,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    require(who, "officer")
    rows = UnmatchedLegs(svc.engine).find(None if status == "all" else status, limit)
    return Response(
        _ENC.encode(UnmatchedListOut([_out(r) for r in rows])), media_type="application/json"
    )


@router.post(
    "/v1/unmatched-legs/{leg_id}/close",
    summary="Officers: close a held leg with a note (it never joins the parcel)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(CloseIn)}},
        }
    },
    responses={**responses({}, 400, 401, 403, 404, 409, 413, 415, 422), **_ok(UnmatchedOut)},
)
async def close_unmatched(
    leg_id: LegId, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body = decode_as(await read_body(request, 16 * 1024), CloseIn)
    row = await run_in_threadpool(
        UnmatchedLegs(svc.engine).close,
        leg_id,
        f"{who.role}:{who.operator}",
        body.note,
        svc.clock.now(),
    )
    return Response(_ENC.encode(_out(row)), media_type="application/json")
