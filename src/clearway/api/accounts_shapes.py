"""Request and response shapes of the accounts, collection and returns API, their OpenAPI
documentation and the helpers its routes share."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from fastapi import Path, Request
from fastapi.responses import Response

from clearway.accounts.model import Account, Declaration, Registration, ReportUpload
from clearway.api.deps import decode_as, read_body
from clearway.api.openapi import inline_schema, responses
from clearway.kernel.errors import DomainError, NotFound
from clearway.returns.model import Refund, Return
from clearway.storage.accounts_wiring import AccountsWiring
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

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


class RefundDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    approve: bool
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class RefundPaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]  # the transfer's


class QuotaRemainingOut(msgspec.Struct):
    consignment_id: str
    jurisdiction: str
    year: int
    currency: str
    annual_limit: Decimal
    transaction_limit: Decimal
    remaining: Decimal


# ---------------------------------------------------------------------------- OpenAPI
def openapi_doc(
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


def json_response(obj: object, status: int = 200) -> Response:
    return Response(_ENC.encode(obj), status, media_type="application/json")


def wiring_of(svc: Services) -> AccountsWiring:
    if svc.accounts is None:
        raise DomainError("accounts are not wired in this deployment")
    return svc.accounts


async def body_as(request: Request, kind: type[Any], limit: int = 64 * 1024) -> Any:
    return decode_as(await read_body(request, limit), kind)


# ---------------------------------------------------------------------------- views
def registration_out(r: Registration, today: date) -> RegistrationOut:
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


def account_out(w: AccountsWiring, a: Account, released: list[str] | None = None) -> AccountOut:
    open_ = w.accounts.open_liability(a.id, fresh=True)
    return AccountOut(
        a.id, a.operator_id, a.currency, a.guarantee, open_, a.guarantee - open_, released or []
    )


def report_out(u: ReportUpload) -> ReportOut:
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


def declaration_out(
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
        [report_out(u) for u in w.store.uploads(d.id)] if lines else [],
        released or [],
    )


def return_out(r: Return) -> ReturnOut:
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


def refund_out(r: Refund, payee: str | None = None) -> RefundOut:
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


def own_account(
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


def actor_of(who: Principal) -> str:
    return f"{who.role}:{who.operator}"
