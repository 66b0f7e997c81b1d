"""Returns, refunds, quotas and the accounts reports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.accounts.quotas import parse_person, person_key, quota_limits
from clearway.api.access import require_full
from clearway.api.accounts_shapes import (
    PER_PARCEL_REPORTS,
    IdPath,
    PersonPath,
    QuotaEntryOut,
    QuotaOut,
    QuotaRemainingOut,
    RefundDecisionIn,
    RefundIn,
    RefundOut,
    RefundPaymentIn,
    ReportRowsOut,
    ReturnIn,
    ReturnOut,
    actor_of,
    body_as,
    json_response,
    openapi_doc,
    refund_out,
    return_out,
    wiring_of,
)
from clearway.api.deps import PrincipalDep, ServicesDep, require
from clearway.domain.filing import FILING_ROLES
from clearway.kernel.errors import Forbidden, InvalidInput, NotFound, Problem
from clearway.returns.approval import parse_limits
from clearway.returns.model import ReturnedItem
from clearway.storage.accounts_wiring import AccountsWiring
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

router = APIRouter(tags=["accounts"])


# ---------------------------------------------------------------------------- returns, refunds
def _may_act_on_parcel(svc: Services, who: Principal, consignment_id: str) -> None:
    """Returns and refunds are the declarants' (and officers'); anyone else: 404."""
    require_full(svc, who, consignment_id)


@router.post(
    "/v1/returns",
    summary="An outbound return of (some items of) a released inbound parcel",
    status_code=201,
    **openapi_doc((201, ReturnOut), 400, 403, 404, 409, 413, 415, body=ReturnIn),
)
async def file_return(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer", *FILING_ROLES)
    body: ReturnIn = await body_as(request, ReturnIn)
    w = wiring_of(svc)
    cid = w.store.consignment_by_document(body.inbound.strip().upper()) or body.inbound.strip()
    _may_act_on_parcel(svc, who, cid)
    ret = await run_in_threadpool(
        lambda: w.returns.file_return(
            inbound=cid,
            return_document=body.return_document,
            items=[ReturnedItem(i.item, i.quantity) for i in body.items],
            who=actor_of(who),
            reason=body.reason,
        )
    )
    return json_response(return_out(ret), 201)


@router.get("/v1/returns/{return_id}", summary="One return", **openapi_doc((200, ReturnOut), 404))
def get_return(return_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    ret = wiring_of(svc).returns.get_return(return_id)
    _may_act_on_parcel(svc, who, ret.consignment_id)
    return json_response(return_out(ret))


@router.post(
    "/v1/refunds",
    summary="Claim the refund of a return: computed per item, approved or refused with reasons",
    status_code=201,
    **openapi_doc((201, RefundOut), 400, 403, 404, 409, 413, 415, body=RefundIn),
)
async def claim_refund(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer", *FILING_ROLES)
    body: RefundIn = await body_as(request, RefundIn)
    w = wiring_of(svc)
    ret = w.returns.get_return(body.return_id)
    _may_act_on_parcel(svc, who, ret.consignment_id)
    limits = (
        None
        if who.role in ("officer", "admin")
        else parse_limits(svc.settings.security.refund_officer_above)
    )
    refund = await run_in_threadpool(
        lambda: w.returns.claim_refund(
            return_id=body.return_id, claimant=actor_of(who), officer_above=limits
        )
    )
    return json_response(
        refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id)), 201
    )


@router.get("/v1/refunds/{refund_id}", summary="One refund", **openapi_doc((200, RefundOut), 404))
def get_refund(refund_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    refund = wiring_of(svc).returns.get_refund(refund_id)
    _may_act_on_parcel(svc, who, refund.consignment_id)
    return json_response(
        refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id))
    )


@router.post(
    "/v1/refunds/{refund_id}/decision",
    summary="Officers: approve or refuse a refund waiting for approval",
    **openapi_doc((200, RefundOut), 403, 404, 409, body=RefundDecisionIn),
)
async def decide_refund(
    refund_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: RefundDecisionIn = await body_as(request, RefundDecisionIn)
    w = wiring_of(svc)
    refund = await run_in_threadpool(
        lambda: w.returns.decide_refund(
            refund_id, approve=body.approve, officer=actor_of(who), reason=body.reason
        )
    )
    return json_response(
        refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id))
    )


@router.post(
    "/v1/refunds/{refund_id}/payment",
    summary="Officers: an approved refund paid out (not one settled through an account)",
    **openapi_doc((200, RefundOut), 403, 404, 409, body=RefundPaymentIn),
)
async def pay_refund(
    refund_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: RefundPaymentIn = await body_as(request, RefundPaymentIn)
    w = wiring_of(svc)
    refund = await run_in_threadpool(
        lambda: w.returns.pay_refund(refund_id, officer=actor_of(who), reference=body.reference)
    )
    return json_response(
        refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id))
    )


def payee_of(svc: Services, consignment_id: str, account_id: str | None) -> str:
    """Who the money goes back to: the collecting account, or the consignee the way it paid."""
    if account_id:
        return f"account {account_id} (negative lines in its next declaration)"
    paid = [e for e in svc.store.events_of(consignment_id) if e.kind == "payment_pay"]
    if not paid:
        return "nobody: nothing was paid at the border"
    last = paid[-1]
    return (
        f"the consignee, through {last.actor} (payment reference "
        f"{last.data.get('reference', 'unknown')})"
    )


# ---------------------------------------------------------------------------- quotas, reports
@router.get(
    "/v1/quotas/{person}",
    summary="A person's yearly quota: limit, used, remaining (identifier or name|postcode|country)",
    **openapi_doc((200, QuotaOut), 403),
)
def get_quota(
    person: PersonPath,
    svc: ServicesDep,
    who: PrincipalDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")] = "CN",
) -> Response:
    # A person's totals and the parcels behind them are for officers; a filer asks about the
    # consignee of a parcel it declared (GET /v1/consignments/{id}/quota).
    require(who, "officer")
    w = wiring_of(svc)
    today = svc.clock.now().date()
    year = year or today.year
    on = min(today, date(year, 12, 31))
    limits = quota_limits(country, on)
    if limits is None:
        raise NotFound(f"no per-person quota in force for {country.upper()} in {year}")
    key = parse_person(person)
    used, entries = w.accounts.quota(key, year)
    annual, single, currency = limits
    return json_response(
        QuotaOut(
            key,
            country.upper(),
            year,
            currency,
            annual,
            single,
            used,
            annual - used,
            [QuotaEntryOut(e.consignment_id, e.source, e.amount, e.at) for e in entries],
        )
    )


@router.get(
    "/v1/consignments/{consignment_id}/quota",
    summary="The remaining yearly allowance of the consignee of a parcel you declared",
    **openapi_doc((200, QuotaRemainingOut), 404),
)
def get_parcel_quota(consignment_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    w = wiring_of(svc)
    c = require_full(svc, who, consignment_id)
    doc = c.document
    on = doc.legal_date or svc.clock.now().date()
    limits = quota_limits(doc.destination_country, on)
    person = person_key(doc.consignee)
    if limits is None or person is None:
        raise NotFound(f"no per-person quota applies to consignment {consignment_id}")
    used, _ = w.accounts.quota(person, on.year)
    annual, single, currency = limits
    return json_response(
        QuotaRemainingOut(
            c.id, doc.destination_country, on.year, currency, annual, single, annual - used
        )
    )


def report_rows(w: AccountsWiring, report: str, period: str | None) -> list[dict[str, Any]]:
    """The rows of one report (shared by the API and the CLI)."""
    if report == "registrations":
        if period is None:
            raise InvalidInput([Problem("/period", "required", "YYYY-MM")])
        return w.store.registration_totals(period)
    if report == "liabilities":
        open_ = w.store.open_liabilities()
        return [
            {
                "account_id": a.id,
                "operator_id": a.operator_id,
                "currency": a.currency,
                "guarantee": str(a.guarantee),
                "open_liability": str(open_.get(a.id, Decimal(0))),
                "headroom": str(a.guarantee - open_.get(a.id, Decimal(0))),
            }
            for a in w.accounts.registry.accounts()
        ]
    if report == "refunds":
        return [
            {
                "refund_id": r.id,
                "consignment_id": r.consignment_id,
                "account_id": r.account_id,
                "status": r.status,
                "currency": r.currency,
                "amount": str(r.amount),
                "claimed_at": r.claimed_at.isoformat(),
                "declared_in": r.period_id,
            }
            for r in w.store.refunds()
        ]
    raise NotFound(f"no report {report}")


@router.get(
    "/v1/reports/{report}",
    summary="Reports: `registrations` (monthly totals per number), `liabilities`, `refunds`",
    **openapi_doc((200, ReportRowsOut), csv_too=True),
)
def get_report(
    report: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")],
    svc: ServicesDep,
    who: PrincipalDep,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    if not who.reads_aggregates or (report in PER_PARCEL_REPORTS and not who.sees_everything):
        raise Forbidden("reports are for officers and analysts (per-parcel reports: officers)")
    rows = report_rows(wiring_of(svc), report, period)
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv")
    return json_response(ReportRowsOut(report, rows))


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()
