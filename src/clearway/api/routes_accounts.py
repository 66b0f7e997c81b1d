"""Accounts, collection and returns: registrations, accounts and guarantees, monthly
consolidated declarations (report upload, payment), returns, refunds, quotas and reports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.accounts.model import Account, Declaration, Registration, ReportUpload
from clearway.accounts.quotas import parse_person, person_key, quota_limits
from clearway.api.access import require_full
from clearway.api.deps import PrincipalDep, ServicesDep, decode_as, read_body, require
from clearway.api.openapi import inline_schema, responses
from clearway.api.payment_claims import claim_payment
from clearway.domain.filing import FILING_ROLES
from clearway.kernel.errors import DomainError, Forbidden, InvalidInput, NotFound, Problem
from clearway.returns.approval import parse_limits
from clearway.returns.model import Refund, Return, ReturnedItem
from clearway.storage.accounts_repository import AccountsWiring, release_within_guarantee
from clearway.storage.claims import PaymentClaims
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

router = APIRouter(tags=["accounts"])
_ENC = msgspec.json.Encoder(decimal_format="string")
STAFF = ("officer", "analyst")
PER_PARCEL_REPORTS = ("refunds",)  # rows name parcels: not an aggregate for analysts
Number = Annotated[str, Path(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9\-]+$")]
IdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
PeriodPath = Annotated[str, Path(pattern=r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$")]
PersonPath = Annotated[str, Path(min_length=1, max_length=200)]


# ---------------------------------------------------------------------------- shapes
class RegistrationIn(msgspec.Struct, forbid_unknown_fields=True):
    operator: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    number: Annotated[str, msgspec.Meta(min_length=4, max_length=40)]
    scheme: Literal["ioss", "intermediary", "voec", "uk_vat", "au_gst", "cbec", "national"]
    jurisdiction: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
    valid_from: date
    valid_until: date | None = None
    aeo: bool = False
    account_id: str | None = None


class RegistrationChangeIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    status: Literal["active", "suspended", "revoked"] | None = None
    reason: str | None = None
    aeo: bool | None = None
    valid_until: date | None = None


class RegistrationOut(msgspec.Struct):
    id: str
    number: str
    operator_id: str
    scheme: str
    jurisdiction: str
    valid_from: date
    valid_until: date | None
    status: str
    status_reason: str | None
    aeo: bool
    account_id: str | None
    standing_today: str


class RegistrationsOut(msgspec.Struct):
    registrations: list[RegistrationOut]


class AccountIn(msgspec.Struct, forbid_unknown_fields=True):
    operator: str
    currency: str
    guarantee: Decimal


class GuaranteeIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Decimal


class AccountOut(msgspec.Struct):
    id: str
    operator_id: str
    currency: str
    guarantee: Decimal
    open_liability: Decimal
    headroom: Decimal
    released: list[str] = []  # parcels released by this change (payment / higher guarantee)


class AccountsOut(msgspec.Struct):
    accounts: list[AccountOut]


class PeriodIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Annotated[str, msgspec.Meta(pattern=r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$")]


class TotalOut(msgspec.Struct):
    kind: str
    rate: str | None
    amount: Decimal


class LineOut(msgspec.Struct, omit_defaults=True):
    consignment_id: str
    transport_document: str
    kind: str
    amount: Decimal
    registration_number: str | None = None
    item: int | None = None
    rate: str | None = None
    refund_id: str | None = None


class DifferenceOut(msgspec.Struct):
    transport_document: str
    kind: str
    code: str
    recorded: Decimal | None
    reported: Decimal | None
    difference: Decimal


class ReportOut(msgspec.Struct):
    id: str
    format: str
    lines: int
    reported_total: Decimal
    differences: list[DifferenceOut]
    uploaded_by: str
    uploaded_at: datetime


class DeclarationOut(msgspec.Struct, omit_defaults=True):
    id: str
    account_id: str
    period: str
    status: str
    currency: str
    total: Decimal
    totals: list[TotalOut]
    declared_at: datetime
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    lines: list[LineOut] = []
    reports: list[ReportOut] = []
    released: list[str] = []


class PeriodsOut(msgspec.Struct):
    periods: list[DeclarationOut]


class ReportLineIn(msgspec.Struct, forbid_unknown_fields=True):
    transport_document: str
    kind: str
    amount: Decimal


class ReportIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    format: Literal["csv", "json"]
    content: str | None = None  # CSV text: transport_document,kind,amount
    lines: list[ReportLineIn] | None = None


class AccountPaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Decimal
    currency: str
    reference: str


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    item: int
    quantity: int = 1


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    inbound: str  # consignment id or transport document of the inbound parcel
    return_document: str
    items: list[ItemIn]
    reason: str | None = None


class ReturnOut(msgspec.Struct):
    id: str
    consignment_id: str
    return_document: str
    items: list[ItemIn]
    within_window: bool
    window_ends: date | None
    goods_back_by: date | None
    quota_restored: Decimal | None
    reason: str | None
    filed_by: str
    filed_at: datetime


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    return_id: str


class RefundLineOut(msgspec.Struct):
    item: int | None
    kind: str
    rate: str | None
    amount: Decimal


class RefundOut(msgspec.Struct):
    id: str
    consignment_id: str
    return_id: str | None
    account_id: str | None
    claimant: str
    status: str
    reasons: list[str]
    currency: str
    amount: Decimal
    lines: list[RefundLineOut]
    claimed_at: datetime
    period_id: str | None
    payee: str | None = None  # the party the refund goes back to (the one that paid)


class QuotaEntryOut(msgspec.Struct):
    consignment_id: str
    source: str
    amount: Decimal
    at: datetime


class QuotaOut(msgspec.Struct):
    person: str
    jurisdiction: str
    year: int
    currency: str
    annual_limit: Decimal
    transaction_limit: Decimal
    used: Decimal
    remaining: Decimal
    entries: list[QuotaEntryOut]


class ReportRowsOut(msgspec.Struct):
    report: str
    rows: list[dict[str, Any]]


# ---------------------------------------------------------------------------- OpenAPI
def _doc(
    ok: tuple[int, type] | None, *errors: int, body: type | None = None, csv_too: bool = False
) -> dict[str, Any]:
    codes = sorted({400, 401, 403, 404, 409, 413, 415, 422, *errors})
    out: dict[str, Any] = {"responses": responses({}, *codes)}
    if ok is not None:
        content: dict[str, Any] = {"application/json": {"schema": inline_schema(ok[1])}}
        if csv_too:
            content["text/csv"] = {"schema": {"type": "string"}}
        out["responses"][ok[0]] = {"description": "OK", "content": content}
    if body is not None:
        out["openapi_extra"] = {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(body)}},
            }
        }
    return out


def _json(obj: object, status: int = 200) -> Response:
    return Response(_ENC.encode(obj), status, media_type="application/json")


def _wiring(svc: Services) -> AccountsWiring:
    if svc.accounts is None:
        raise DomainError("accounts are not wired in this deployment")
    return svc.accounts


async def _body(request: Request, kind: type[Any], limit: int = 64 * 1024) -> Any:
    return decode_as(await read_body(request, limit), kind)


# ---------------------------------------------------------------------------- views
def _registration_out(r: Registration, today: date) -> RegistrationOut:
    return RegistrationOut(
        r.id,
        r.number,
        r.operator_id,
        r.scheme,
        r.jurisdiction,
        r.valid_from,
        r.valid_until,
        r.status,
        r.status_reason,
        r.aeo,
        r.account_id,
        r.standing(today),
    )


def _account_out(w: AccountsWiring, a: Account, released: list[str] | None = None) -> AccountOut:
    open_ = w.accounts.open_liability(a.id, fresh=True)
    return AccountOut(
        a.id, a.operator_id, a.currency, a.guarantee, open_, a.guarantee - open_, released or []
    )


def _report_out(u: ReportUpload) -> ReportOut:
    return ReportOut(
        u.id,
        u.format,
        u.lines,
        u.reported_total,
        [
            DifferenceOut(
                d.transport_document, d.kind, d.code, d.recorded, d.reported, d.difference
            )
            for d in u.differences
        ],
        u.uploaded_by,
        u.uploaded_at,
    )


def _declaration_out(
    w: AccountsWiring, d: Declaration, *, lines: bool = True, released: list[str] | None = None
) -> DeclarationOut:
    return DeclarationOut(
        d.id,
        d.account_id,
        d.period,
        d.status,
        d.currency,
        d.total,
        [TotalOut(t.kind, t.rate, t.amount) for t in d.totals],
        d.declared_at,
        d.paid_at,
        d.closed_at,
        [
            LineOut(
                ln.consignment_id,
                ln.transport_document,
                ln.kind,
                ln.amount,
                ln.registration_number,
                ln.item,
                ln.rate,
                ln.refund_id,
            )
            for ln in d.lines
        ]
        if lines
        else [],
        [_report_out(u) for u in w.store.uploads(d.id)] if lines else [],
        released or [],
    )


def _return_out(r: Return) -> ReturnOut:
    return ReturnOut(
        r.id,
        r.consignment_id,
        r.return_document,
        [ItemIn(i.item, i.quantity) for i in r.items],
        r.within_window,
        r.window_ends,
        r.goods_back_by,
        r.quota_restored,
        r.reason,
        r.filed_by,
        r.filed_at,
    )


def _refund_out(r: Refund, payee: str | None = None) -> RefundOut:
    return RefundOut(
        r.id,
        r.consignment_id,
        r.return_id,
        r.account_id,
        r.claimant,
        r.status,
        list(r.reasons),
        r.currency,
        r.amount,
        [RefundLineOut(ln.item, ln.kind, ln.rate, ln.amount) for ln in r.lines],
        r.claimed_at,
        r.period_id,
        payee,
    )


def _own_account(
    w: AccountsWiring, who: Principal, account_id: str, *, use: str = "detail"
) -> Account:
    """The account if the caller may `use` it — `summary` (guarantee and liability: analysts
    too), `detail` (declarations with their parcel lines) or `write` (officers and the owner,
    never an analyst) — else 404, as for an account that does not exist."""
    acc = w.accounts.account(account_id)
    allowed = {
        "summary": who.reads_aggregates,
        "detail": who.sees_everything,
        "write": who.role in ("officer", "admin"),
    }[use]
    if not allowed and acc.operator_id != who.operator_id:
        raise NotFound(f"no account {account_id}")
    return acc


def _actor(who: Principal) -> str:
    return f"{who.role}:{who.operator}"


# ---------------------------------------------------------------------------- registrations
@router.post(
    "/v1/registrations",
    summary="Register a collection number (IOSS-style) for an operator, with validity and AEO",
    status_code=201,
    **_doc((201, RegistrationOut), 400, 403, 409, 413, 415, body=RegistrationIn),
)
async def create_registration(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer")
    body: RegistrationIn = await _body(request, RegistrationIn)
    w = _wiring(svc)
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
    return _json(_registration_out(reg, svc.clock.now().date()), 201)


@router.get(
    "/v1/registrations",
    summary="Registration numbers: all for officers, your own for operators",
    **_doc((200, RegistrationsOut)),
)
def list_registrations(svc: ServicesDep, who: PrincipalDep) -> Response:
    w = _wiring(svc)
    today = svc.clock.now().date()
    regs = [
        _registration_out(r, today)
        for r in w.accounts.registry.registrations()
        if who.reads_aggregates or r.operator_id == who.operator_id
    ]
    return _json(RegistrationsOut(regs))


@router.get(
    "/v1/registrations/{number}",
    summary="One registration number and its standing today",
    **_doc((200, RegistrationOut), 404),
)
def get_registration(number: Number, svc: ServicesDep, who: PrincipalDep) -> Response:
    reg = _wiring(svc).accounts.registration(number)
    if not who.reads_aggregates and reg.operator_id != who.operator_id:
        raise NotFound(f"no registration {number}")
    return _json(_registration_out(reg, svc.clock.now().date()))


@router.post(
    "/v1/registrations/{number}/status",
    summary="Suspend, revoke or reactivate a number; change its AEO standing or validity",
    **_doc((200, RegistrationOut), 400, 403, 404, 409, 413, 415, body=RegistrationChangeIn),
)
async def change_registration(
    number: Number, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: RegistrationChangeIn = await _body(request, RegistrationChangeIn)
    w = _wiring(svc)
    reg = await run_in_threadpool(
        lambda: w.accounts.set_registration(
            number,
            status=body.status,
            reason=body.reason,
            aeo=body.aeo,
            valid_until=body.valid_until,
        )
    )
    return _json(_registration_out(reg, svc.clock.now().date()))


# ---------------------------------------------------------------------------- accounts
@router.post(
    "/v1/accounts",
    summary="Open a collecting operator's account with its guarantee",
    status_code=201,
    **_doc((201, AccountOut), 400, 403, 409, 413, 415, body=AccountIn),
)
async def create_account(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer")
    body: AccountIn = await _body(request, AccountIn)
    w = _wiring(svc)
    acc = await run_in_threadpool(
        lambda: w.accounts.open_account(
            operator=body.operator, currency=body.currency, guarantee=body.guarantee
        )
    )
    return _json(_account_out(w, acc), 201)


@router.get(
    "/v1/accounts",
    summary="Accounts with guarantee, open liability and headroom (officers: all; else yours)",
    **_doc((200, AccountsOut)),
)
def list_accounts(svc: ServicesDep, who: PrincipalDep) -> Response:
    w = _wiring(svc)
    accs = [
        _account_out(w, a)
        for a in w.accounts.registry.accounts()
        if who.reads_aggregates or a.operator_id == who.operator_id
    ]
    return _json(AccountsOut(accs))


@router.get(
    "/v1/accounts/{account_id}",
    summary="One account: guarantee, open liability, headroom",
    **_doc((200, AccountOut), 404),
)
def get_account(account_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    w = _wiring(svc)
    return _json(_account_out(w, _own_account(w, who, account_id, use="summary")))


@router.post(
    "/v1/accounts/{account_id}/guarantee",
    summary="Set the guarantee; parcels held over the old one are released when they now fit",
    **_doc((200, AccountOut), 400, 403, 404, 413, 415, body=GuaranteeIn),
)
async def set_guarantee(
    account_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: GuaranteeIn = await _body(request, GuaranteeIn)
    w = _wiring(svc)

    def run() -> AccountOut:
        acc = w.accounts.set_guarantee(account_id, body.amount)
        released = release_within_guarantee(
            w, svc.clearance, acc.id, _actor(who), f"guarantee raised to {acc.guarantee}"
        )
        return _account_out(w, acc, released)

    return _json(await run_in_threadpool(run))


# ---------------------------------------------------------------------------- periods
@router.get(
    "/v1/accounts/{account_id}/periods",
    summary="The account's consolidated declarations (without lines)",
    **_doc((200, PeriodsOut), 404),
)
def list_periods(account_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    w = _wiring(svc)
    _own_account(w, who, account_id)
    return _json(
        PeriodsOut([_declaration_out(w, d, lines=False) for d in w.store.declarations(account_id)])
    )


@router.post(
    "/v1/accounts/{account_id}/periods",
    summary="Build the consolidated declaration of a month (lines, totals per tax and rate)",
    status_code=201,
    **_doc((201, DeclarationOut), 400, 404, 413, 415, body=PeriodIn),
)
async def declare(
    account_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    body: PeriodIn = await _body(request, PeriodIn)
    w = _wiring(svc)
    _own_account(w, who, account_id, use="write")
    d = await run_in_threadpool(w.accounts.declare, account_id, body.period)
    return _json(_declaration_out(w, d), 201)


@router.get(
    "/v1/accounts/{account_id}/periods/{period}",
    summary="A consolidated declaration with its lines and the operator's report uploads",
    **_doc((200, DeclarationOut), 404),
)
def get_period(
    account_id: IdPath, period: PeriodPath, svc: ServicesDep, who: PrincipalDep
) -> Response:
    w = _wiring(svc)
    _own_account(w, who, account_id)
    return _json(_declaration_out(w, w.accounts.declaration(account_id, period)))


@router.post(
    "/v1/accounts/{account_id}/periods/{period}/report",
    summary="Upload the operator's own report (CSV text or JSON lines); differences line by line",
    **_doc((200, ReportOut), 400, 404, 413, 415, body=ReportIn),
)
async def upload_report(
    account_id: IdPath, period: PeriodPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    body: ReportIn = await _body(request, ReportIn, 32 * 1024 * 1024)
    w = _wiring(svc)
    _own_account(w, who, account_id, use="write")
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
        w.accounts.upload_report, account_id, period, body.format, content, _actor(who)
    )
    return _json(_report_out(upload))


@router.post(
    "/v1/accounts/{account_id}/periods/{period}/payment",
    summary="Record the payment of a declaration: the period closes, held parcels may go",
    **_doc((200, DeclarationOut), 400, 403, 404, 409, 413, 415, body=AccountPaymentIn),
)
async def pay_period(
    account_id: IdPath, period: PeriodPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer", *FILING_ROLES)
    w = _wiring(svc)
    # Only an officer records a payment; an owner's claim waits for confirmation; anyone else
    # is told nothing (404 before the body is even read, so no amount is ever revealed).
    _own_account(w, who, account_id, use="write")
    body: AccountPaymentIn = await _body(request, AccountPaymentIn)
    if who.role not in ("officer", "admin"):
        claim = await run_in_threadpool(
            claim_payment, svc, w, account_id, period, body, _actor(who)
        )
        return _json(claim, 202)

    def run() -> DeclarationOut:
        d = w.accounts.pay(
            account_id, period, body.amount, body.currency, body.reference, _actor(who)
        )
        released = release_within_guarantee(
            w, svc.clearance, account_id, _actor(who), f"period {period} paid, {body.reference}"
        )
        PaymentClaims(svc.engine).confirm(account_id, d.period, _actor(who), svc.clock.now())
        return _declaration_out(w, w.accounts.declaration(account_id, d.period), released=released)

    return _json(await run_in_threadpool(run))


# ---------------------------------------------------------------------------- returns, refunds
def _may_act_on_parcel(svc: Services, who: Principal, consignment_id: str) -> None:
    """Returns and refunds are the declarants' (and officers'); anyone else: 404."""
    require_full(svc, who, consignment_id)


@router.post(
    "/v1/returns",
    summary="An outbound return of (some items of) a released inbound parcel",
    status_code=201,
    **_doc((201, ReturnOut), 400, 403, 404, 409, 413, 415, body=ReturnIn),
)
async def file_return(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer", *FILING_ROLES)
    body: ReturnIn = await _body(request, ReturnIn)
    w = _wiring(svc)
    cid = w.store.consignment_by_document(body.inbound.strip().upper()) or body.inbound.strip()
    _may_act_on_parcel(svc, who, cid)
    ret = await run_in_threadpool(
        lambda: w.returns.file_return(
            inbound=cid,
            return_document=body.return_document,
            items=[ReturnedItem(i.item, i.quantity) for i in body.items],
            who=_actor(who),
            reason=body.reason,
        )
    )
    return _json(_return_out(ret), 201)


@router.get("/v1/returns/{return_id}", summary="One return", **_doc((200, ReturnOut), 404))
def get_return(return_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    ret = _wiring(svc).returns.get_return(return_id)
    _may_act_on_parcel(svc, who, ret.consignment_id)
    return _json(_return_out(ret))


@router.post(
    "/v1/refunds",
    summary="Claim the refund of a return: computed per item, approved or refused with reasons",
    status_code=201,
    **_doc((201, RefundOut), 400, 403, 404, 409, 413, 415, body=RefundIn),
)
async def claim_refund(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer", *FILING_ROLES)
    body: RefundIn = await _body(request, RefundIn)
    w = _wiring(svc)
    ret = w.returns.get_return(body.return_id)
    _may_act_on_parcel(svc, who, ret.consignment_id)
    limits = (
        None
        if who.role in ("officer", "admin")
        else parse_limits(svc.settings.security.refund_officer_above)
    )
    refund = await run_in_threadpool(
        lambda: w.returns.claim_refund(
            return_id=body.return_id, claimant=_actor(who), officer_above=limits
        )
    )
    return _json(_refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id)), 201)


@router.get("/v1/refunds/{refund_id}", summary="One refund", **_doc((200, RefundOut), 404))
def get_refund(refund_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    refund = _wiring(svc).returns.get_refund(refund_id)
    _may_act_on_parcel(svc, who, refund.consignment_id)
    return _json(_refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id)))


class RefundDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    approve: bool
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


@router.post(
    "/v1/refunds/{refund_id}/decision",
    summary="Officers: approve or refuse a refund waiting for approval",
    **_doc((200, RefundOut), 403, 404, 409, body=RefundDecisionIn),
)
async def decide_refund(
    refund_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: RefundDecisionIn = await _body(request, RefundDecisionIn)
    w = _wiring(svc)
    refund = await run_in_threadpool(
        lambda: w.returns.decide_refund(
            refund_id, approve=body.approve, officer=_actor(who), reason=body.reason
        )
    )
    return _json(_refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id)))


class RefundPaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # the transfer's


@router.post(
    "/v1/refunds/{refund_id}/payment",
    summary="Officers: an approved refund paid out (not one settled through an account)",
    **_doc((200, RefundOut), 403, 404, 409, body=RefundPaymentIn),
)
async def pay_refund(
    refund_id: IdPath, request: Request, svc: ServicesDep, who: PrincipalDep
) -> Response:
    require(who, "officer")
    body: RefundPaymentIn = await _body(request, RefundPaymentIn)
    w = _wiring(svc)
    refund = await run_in_threadpool(
        lambda: w.returns.pay_refund(refund_id, officer=_actor(who), reference=body.reference)
    )
    return _json(_refund_out(refund, payee_of(svc, refund.consignment_id, refund.account_id)))


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
    **_doc((200, QuotaOut), 403),
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
    w = _wiring(svc)
    today = svc.clock.now().date()
    year = year or today.year
    on = min(today, date(year, 12, 31))
    limits = quota_limits(country, on)
    if limits is None:
        raise NotFound(f"no per-person quota in force for {country.upper()} in {year}")
    key = parse_person(person)
    used, entries = w.accounts.quota(key, year)
    annual, single, currency = limits
    return _json(
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


class QuotaRemainingOut(msgspec.Struct):
    consignment_id: str
    jurisdiction: str
    year: int
    currency: str
    annual_limit: Decimal
    transaction_limit: Decimal
    remaining: Decimal


@router.get(
    "/v1/consignments/{consignment_id}/quota",
    summary="The remaining yearly allowance of the consignee of a parcel you declared",
    **_doc((200, QuotaRemainingOut), 404),
)
def get_parcel_quota(consignment_id: IdPath, svc: ServicesDep, who: PrincipalDep) -> Response:
    w = _wiring(svc)
    c = require_full(svc, who, consignment_id)
    doc = c.document
    on = doc.legal_date or svc.clock.now().date()
    limits = quota_limits(doc.destination_country, on)
    person = person_key(doc.consignee)
    if limits is None or person is None:
        raise NotFound(f"no per-person quota applies to consignment {consignment_id}")
    used, _ = w.accounts.quota(person, on.year)
    annual, single, currency = limits
    return _json(
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
    **_doc((200, ReportRowsOut), csv_too=True),
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
    rows = report_rows(_wiring(svc), report, period)
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv")
    return _json(ReportRowsOut(report, rows))


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()
