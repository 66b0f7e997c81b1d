"""Accounts and collection: registrations, accounts and guarantees, monthly consolidated
declarations (report upload, payment)."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.accounts_shapes import (
    AccountIn,
    AccountOut,
    AccountPaymentIn,
    AccountsOut,
    DeclarationOut,
    GuaranteeIn,
    IdPath,
    Number,
    PeriodIn,
    PeriodPath,
    PeriodsOut,
    RegistrationChangeIn,
    RegistrationIn,
    RegistrationOut,
    RegistrationsOut,
    ReportIn,
    ReportOut,
    account_out,
    actor_of,
    body_as,
    declaration_out,
    json_response,
    openapi_doc,
    own_account,
    registration_out,
    report_out,
    wiring_of,
)
from clearway.api.deps import PrincipalDep, ServicesDep, require
from clearway.api.payment_claims import claim_payment
from clearway.domain.filing import FILING_ROLES
from clearway.kernel.errors import InvalidInput, NotFound, Problem
from clearway.storage.accounts_wiring import release_within_guarantee
from clearway.storage.claims import PaymentClaims

router = APIRouter(tags=["accounts"])


# ---------------------------------------------------------------------------- registrations
@router.post(
    "/v1/registrations",
    summary="Register a collection number (IOSS-style) for an operator, with validity and AEO",
    status_code=201,
    **openapi_doc((201, RegistrationOut), 400, 403, 409, 413, 415, body=RegistrationIn),
)
async def create_registration(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer")
    body: RegistrationIn = await body_as(request, RegistrationIn)
    w = wiring_of(svc)
    reg = await run_in_threadpool(
        lambda: w.accounts.register(
            operator=body.operator,
            number=body.number,
            scheme=body.scheme,
            jurisdiction=body.jurisdiction,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            aeo=body.aeo,
            account_id=body.account_id,
        )
    )
    return json_response(registration_out(reg, svc.clock.now().date()), 201)


@router.get(
    "/v1/registrations",
    summary="Registration numbers: all for officers, your own for operators",
    **openapi_doc((200, RegistrationsOut)),
)
def list_registrations(svc: ServicesDep, who: PrincipalDep) -> Response:
    w = wiring_of(svc)
    today = svc.clock.now().date()
    regs = [
        registration_out(r, today)
        for r in w.accounts.registry.registrations()
        if who.reads_aggregates or r.operator_id == who.operator_id
    ]
    return json_response(RegistrationsOut(regs))


@router.get(
    "/v1/registrations/{number}",
    summary="One registration number and its standing today",
    **openapi_doc((200, RegistrationOut), 404),
)
def get_registration(number: Number, svc: ServicesDep, who: PrincipalDep) -> Response:
    reg = wiring_of(svc).accounts.registration(number)
    if not who.reads_aggregates and reg.operator_id != who.operator_id:
        raise NotFound(f"no registration {number}")
    return json_response(registration_out(reg, svc.clock.now().date()))


@router.post(
    "/v1/registrations/{number}/status",
    summary="Suspend, revoke or reactivate a number; change its AEO standing or validity",
    **openapi_doc((200, RegistrationOut), 400, 403, 404, 409, 413, 415, body=RegistrationChangeIn),
)
async def change_registration(
    number: Number, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: RegistrationChangeIn = await body_as(request, RegistrationChangeIn)
    w = wiring_of(svc)
    reg = await run_in_threadpool(
        lambda: w.accounts.set_registration(
            number,
            status=body.status,
            reason=body.reason,
            aeo=body.aeo,
            valid_until=body.valid_until,
        )
    )
    return json_response(registration_out(reg, svc.clock.now().date()))


# ---------------------------------------------------------------------------- accounts
@router.post(
    "/v1/accounts",
    summary="Open a collecting operator's account with its guarantee",
    status_code=201,
    **openapi_doc((201, AccountOut), 400, 403, 409, 413, 415, body=AccountIn),
)
async def create_account(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer")
    body: AccountIn = await body_as(request, AccountIn)
    w = wiring_of(svc)
    acc = await run_in_threadpool(
        lambda: w.accounts.open_account(
            operator=body.operator, currency=body.currency, guarantee=body.guarantee
        )
    )
    return json_response(account_out(w, acc), 201)


@router.get(
    "/v1/accounts",
    summary="Accounts with guarantee, open liability and headroom (officers: all; else yours)",
    **openapi_doc((200, AccountsOut)),
)
def list_accounts(svc: ServicesDep, who: PrincipalDep) -> Response:
    w = wiring_of(svc)
    accs = [
        account_out(w, a)
        for a in w.accounts.registry.accounts()
        if who.reads_aggregates or a.operator_id == who.operator_id
    ]
    return json_response(AccountsOut(accs))


@router.get(
    "/v1/accounts/{account_id}",
    summary="One account: guarantee, open liability, headroom",
    **openapi_doc((200, AccountOut), 404),
)
def get_account(account_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    w = wiring_of(svc)
    return json_response(account_out(w, own_account(w, who, account_id, use="summary")))


@router.post(
    "/v1/accounts/{account_id}/guarantee",
    summary="Set the guarantee; parcels held over the old one are released when they now fit",
    **openapi_doc((200, AccountOut), 400, 403, 404, 413, 415, body=GuaranteeIn),
)
async def set_guarantee(
    account_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: GuaranteeIn = await body_as(request, GuaranteeIn)
    w = wiring_of(svc)

    def run() -> AccountOut:
        acc = w.accounts.set_guarantee(account_id, body.amount)
        released = release_within_guarantee(
            w, svc.clearance, acc.id, actor_of(who), f"guarantee raised to {acc.guarantee}"
        )
        return account_out(w, acc, released)

    return json_response(await run_in_threadpool(run))


# ---------------------------------------------------------------------------- periods
@router.get(
    "/v1/accounts/{account_id}/periods",
    summary="The account's consolidated declarations (without lines)",
    **openapi_doc((200, PeriodsOut), 404),
)
def list_periods(account_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    w = wiring_of(svc)
    own_account(w, who, account_id)
    return json_response(
        PeriodsOut([declaration_out(w, d, lines=False) for d in w.store.declarations(account_id)])
    )


@router.post(
    "/v1/accounts/{account_id}/periods",
    summary="Build the consolidated declaration of a month (lines, totals per tax and rate)",
    status_code=201,
    **openapi_doc((201, DeclarationOut), 400, 404, 413, 415, body=PeriodIn),
)
async def declare(
    account_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    body: PeriodIn = await body_as(request, PeriodIn)
    w = wiring_of(svc)
    own_account(w, who, account_id, use="write")
    d = await run_in_threadpool(w.accounts.declare, account_id, body.period)
    return json_response(declaration_out(w, d), 201)


@router.get(
    "/v1/accounts/{account_id}/periods/{period}",
    summary="A consolidated declaration with its lines and the operator's report uploads",
    **openapi_doc((200, DeclarationOut), 404),
)
def get_period(
    account_id: IdPath, period: PeriodPath, svc: ServicesDep, who: PrincipalDep
) -> Response:
    w = wiring_of(svc)
    own_account(w, who, account_id)
    return json_response(declaration_out(w, w.accounts.declaration(account_id, period)))


@router.post(
    "/v1/accounts/{account_id}/periods/{period}/report",
    summary="Upload the operator's own report (CSV text or JSON lines); differences line by line",
    **openapi_doc((200, ReportOut), 400, 404, 413, 415, body=ReportIn),
)
async def upload_report(
    account_id: IdPath, period: PeriodPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    body: ReportIn = await body_as(request, ReportIn, 32 * 1024 * 1024)
    w = wiring_of(svc)
    own_account(w, who, account_id, use="write")
    content: str | list[dict[str, object]]
    if body.format == "csv":
        if body.content is None:
            raise InvalidInput([Problem("/content", "required", "CSV text in `content`")])
        content = body.content
    else:
        if body.lines is None:
            raise InvalidInput([Problem("/lines", "required", "report lines in `lines`")])
        content = [msgspec.to_builtins(x) for x in body.lines]
    upload = await run_in_threadpool(
        w.accounts.upload_report, account_id, period, body.format, content, actor_of(who)
    )
    return json_response(report_out(upload))


@router.post(
    "/v1/accounts/{account_id}/periods/{period}/payment",
    summary="Record the payment of a declaration: the period closes, held parcels may go",
    **openapi_doc((200, DeclarationOut), 400, 403, 404, 409, 413, 415, body=AccountPaymentIn),
)
async def pay_period(
    account_id: IdPath, period: PeriodPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer", *FILING_ROLES)
    w = wiring_of(svc)
    # Only an officer records a payment; an owner's claim waits for confirmation; anyone else
    # is told nothing (404 before the body is even read, so no amount is ever revealed).
    own_account(w, who, account_id, use="write")
    body: AccountPaymentIn = await body_as(request, AccountPaymentIn)
    if who.role not in ("officer", "admin"):
        claim = await run_in_threadpool(
            claim_payment, svc, w, account_id, period, body, actor_of(who)
        )
        return json_response(claim, 202)

    def run() -> DeclarationOut:
        d = w.accounts.pay(
            account_id, period, body.amount, body.currency, body.reference, actor_of(who)
        )
        released = release_within_guarantee(
            w, svc.clearance, account_id, actor_of(who), f"period {period} paid, {body.reference}"
        )
        PaymentClaims(svc.engine).confirm(account_id, d.period, actor_of(who), svc.clock.now())
        return declaration_out(w, w.accounts.declaration(account_id, d.period), released=released)

    return json_response(await run_in_threadpool(run))
