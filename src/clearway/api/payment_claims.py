"""Declaration payments by the right party.

A monthly declaration is paid when an officer records the payment (`POST …/periods/{period}/
payment` with an officer key) or when a reconciliation import — the lines of the customs bank
account's statement — confirms an operator's claim. An operator's own `POST …/payment` is only
a claim: it is stored as `pending_confirmation` and closes nothing, so no operator can zero its
own liability by saying so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Protocol

import msgspec
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.deps import PrincipalDep, ServicesDep, decode_as, read_body, require
from clearway.api.openapi import inline_schema, responses
from clearway.kernel.errors import ClearwayError, DomainError, InvalidInput, Problem
from clearway.storage.accounts_wiring import AccountsWiring, release_within_guarantee
from clearway.storage.claims import PENDING, PaymentClaim, PaymentClaims
from clearway.wiring.services import Services

router = APIRouter(tags=["accounts"])
_ENC = msgspec.json.Encoder(decimal_format="string")
MAX_STATEMENT_LINES = 10_000


class PaymentClaimOut(msgspec.Struct):
    id: str
    account_id: str
    period: str
    amount: Decimal
    currency: str
    reference: str
    status: str  # pending_confirmation | confirmed
    claimed_by: str
    claimed_at: str


class StatementLineIn(msgspec.Struct, forbid_unknown_fields=True):
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    amount: Decimal
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{3}$")]


class StatementIn(msgspec.Struct, forbid_unknown_fields=True):
    lines: list[StatementLineIn]


class ConfirmationOut(msgspec.Struct, omit_defaults=True):
    reference: str
    outcome: Literal["confirmed", "no_matching_claim", "refused"]
    account_id: str | None = None
    period: str | None = None
    released: list[str] = []
    reason: str | None = None


class ConfirmationsOut(msgspec.Struct):
    confirmed: int
    results: list[ConfirmationOut]


def claim_out(c: PaymentClaim) -> PaymentClaimOut:
    return PaymentClaimOut(
        c.id,
        c.account_id,
        c.period,
        c.amount,
        c.currency,
        c.reference,
        c.status,
        c.claimed_by,
        c.claimed_at.isoformat(),
    )


class PaymentLike(Protocol):
    amount: Decimal
    currency: str
    reference: str


def claim_payment(
    svc: Services, w: AccountsWiring, account_id: str, period: str, body: PaymentLike, who: str
) -> PaymentClaimOut:
    """The owner says it paid: recorded as pending, nothing closes."""
    d = w.accounts.declaration(account_id, period)  # 404 for a period never declared
    if d.status == "closed":
        raise DomainError(f"period {period} is already paid and closed")
    if body.currency.strip().upper() != d.currency or body.amount != d.total:
        raise DomainError(f"the declared total is {d.total} {d.currency}")  # the owner's own
    reference = body.reference.strip()
    if not reference or len(reference) > 100:
        raise InvalidInput([Problem("/reference", "required", "the bank reference, 1-100 chars")])
    claim = PaymentClaims(svc.engine).claim(
        account_id=account_id,
        period=period,
        amount=body.amount,
        currency=body.currency.strip().upper(),
        reference=reference,
        who=who,
        at=svc.clock.now(),
    )
    return claim_out(claim)


def confirm_statement(svc: Services, lines: list[StatementLineIn], who: str) -> ConfirmationsOut:
    """Each statement line confirms the pending claim with its reference, amount and currency
    (and pays the declaration it claims); anything else is reported, never guessed."""
    w = svc.accounts
    if w is None:
        raise DomainError("accounts are not wired in this deployment")
    claims = PaymentClaims(svc.engine)
    out: list[ConfirmationOut] = []
    for line in lines:
        ref = line.reference.strip()
        pending = [
            c
            for c in claims.find(reference=ref, status=PENDING)
            if c.amount == line.amount and c.currency == line.currency.upper()
        ]
        if not pending:
            out.append(ConfirmationOut(ref, "no_matching_claim"))
            continue
        c = pending[0]
        try:
            w.accounts.pay(c.account_id, c.period, c.amount, c.currency, ref, who)
        except ClearwayError as exc:
            out.append(ConfirmationOut(ref, "refused", c.account_id, c.period, reason=exc.detail))
            continue
        claims.confirm(c.account_id, c.period, who, svc.clock.now())
        released = release_within_guarantee(
            w, svc.clearance, c.account_id, who, f"period {c.period} paid, {ref} (confirmed)"
        )
        out.append(ConfirmationOut(ref, "confirmed", c.account_id, c.period, released))
    return ConfirmationsOut(sum(1 for r in out if r.outcome == "confirmed"), out)


@router.post(
    "/v1/payments/confirmations",
    summary="Officers: import the bank statement; each line confirms an operator's pending claim",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(StatementIn)}},
        }
    },
    responses={
        **responses({}, 400, 401, 403, 413, 415, 422),
        200: {"description": "A result per statement line"},
    },
)
async def confirmations(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    require(who, "officer")
    body = decode_as(await read_body(request, 4 * 1024 * 1024), StatementIn)
    if not body.lines or len(body.lines) > MAX_STATEMENT_LINES:
        raise InvalidInput([Problem("/lines", "range", f"1 to {MAX_STATEMENT_LINES} lines")])
    result = await run_in_threadpool(
        confirm_statement, svc, body.lines, f"{who.role}:{who.operator}"
    )
    return Response(_ENC.encode(result), media_type="application/json")
