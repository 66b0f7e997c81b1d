"""Operators' payment claims on their monthly declarations, pending an officer's confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearway.kernel.ids import new_id
from clearway.storage.engine import writer
from clearway.storage.repository import aware
from clearway.storage.tables_security import payment_claims as pc

PENDING = "pending_confirmation"
CONFIRMED = "confirmed"


@dataclass(frozen=True, slots=True)
class PaymentClaim:
    id: str
    account_id: str
    period: str
    amount: Decimal
    currency: str
    reference: str
    status: str
    claimed_by: str
    claimed_at: datetime
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None


def _claim(row: object) -> PaymentClaim:
    r = dict(row._mapping)  # type: ignore[attr-defined]
    r["amount"] = Decimal(r["amount"])
    r["claimed_at"] = aware(r["claimed_at"])
    r["confirmed_at"] = aware(r["confirmed_at"])
    return PaymentClaim(**r)


class PaymentClaims:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self,
        *,
        account_id: str,
        period: str,
        amount: Decimal,
        currency: str,
        reference: str,
        who: str,
        at: datetime,
    ) -> PaymentClaim:
        """Record a claim; the same reference again returns the stored claim."""
        row = {
            "id": new_id("clm"),
            "account_id": account_id,
            "period": period,
            "amount": str(amount),
            "currency": currency,
            "reference": reference,
            "status": PENDING,
            "claimed_by": who,
            "claimed_at": at,
        }
        try:
            with writer(self.engine).begin() as conn:
                conn.execute(insert(pc).values(**row))
        except IntegrityError:
            pass  # claimed before with this reference
        found = self.find(account_id=account_id, period=period, reference=reference)
        assert found
        return found[0]

    def find(
        self,
        *,
        account_id: str | None = None,
        period: str | None = None,
        reference: str | None = None,
        status: str | None = None,
    ) -> list[PaymentClaim]:
        q = select(pc)
        for col, value in (
            (pc.c.account_id, account_id),
            (pc.c.period, period),
            (pc.c.reference, reference),
            (pc.c.status, status),
        ):
            if value is not None:
                q = q.where(col == value)
        with self.engine.connect() as conn:
            return [_claim(r) for r in conn.execute(q.order_by(pc.c.claimed_at, pc.c.id))]

    def confirm(self, account_id: str, period: str, who: str, at: datetime) -> int:
        """Every pending claim of the period is confirmed (the period was paid)."""
        with writer(self.engine).begin() as conn:
            done = conn.execute(
                update(pc)
                .where(pc.c.account_id == account_id, pc.c.period == period, pc.c.status == PENDING)
                .values(status=CONFIRMED, confirmed_by=who, confirmed_at=at)
            )
            return int(done.rowcount or 0)
