"""SQL implementation of the returns store (`returns.ports`): returns, refunds and the
inbound parcels they refer to."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearway.domain.assessment import Assessment
from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import Conflict
from clearway.returns.model import Inbound, QuotaRestore, Refund, RefundLine, Return, ReturnedItem
from clearway.storage import tables as t
from clearway.storage import tables_accounts as ta
from clearway.storage.engine import writer
from clearway.storage.repository import aware

_ASSESSMENT = msgspec.json.Decoder(Assessment)
_DOC = msgspec.json.Decoder(FilingDocument)


def optional_decimal(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def stored_utc(v: datetime) -> datetime:
    """A stored timestamp (never null) as an aware UTC datetime."""
    out = aware(v)
    assert out is not None
    return out


class SqlReturns:
    """The returns store over SQL; the accounts store extends it (one object serves both ports)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    def inbound(self, consignment_id: str) -> tuple[Inbound, Assessment | None] | None:
        c = t.consignments.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    c.id, c.transport_document, c.status, c.closed_at, c.document, c.assessment
                ).where(c.id == consignment_id)
            ).first()
            if row is None:
                return None
            owners = {
                str(o)
                for (o,) in conn.execute(
                    select(t.filings.c.operator_id)
                    .where(t.filings.c.consignment_id == consignment_id)
                    .distinct()
                )
            }
        doc = _DOC.decode(row[4])
        closed = aware(row[3])
        parcel = Inbound(
            row[0],
            row[1],
            row[2],
            closed.date() if closed is not None and row[2] == "released" else None,
            doc.destination_country.upper(),
            [max(i.quantity, 1) for i in doc.items],
            [i.value or Decimal(0) for i in doc.items],
            owners,
        )
        return parcel, _ASSESSMENT.decode(row[5]) if row[5] else None

    def consignment_by_document(self, transport_document: str) -> str | None:
        c = t.consignments.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.id).where(c.transport_document == transport_document)
            ).first()
        return None if row is None else str(row[0])

    def returned_quantities(self, consignment_id: str) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        with self.engine.connect() as conn:
            for (items,) in conn.execute(
                select(ta.returns.c["items"]).where(ta.returns.c.consignment_id == consignment_id)
            ):
                for it in items:
                    out[int(it["item"])] += int(it["quantity"])
        return dict(out)

    def quota_used_by(self, consignment_id: str) -> tuple[str, str] | None:
        q = ta.quota_usage.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(q.amount, q.currency).where(
                    q.consignment_id == consignment_id, q.source == "release"
                )
            ).first()
        return None if row is None else (str(row[0]), str(row[1]))

    def add_return(self, ret: Return, restore: QuotaRestore | None) -> None:
        try:
            self._add_return(ret, restore)
        except IntegrityError:  # the return document is unique: this return is already on file
            raise Conflict(f"a return {ret.return_document} is already on file") from None

    def _add_return(self, ret: Return, restore: QuotaRestore | None) -> None:
        q = ta.quota_usage.c
        with self._writer.begin() as conn:
            conn.execute(
                insert(ta.returns).values(
                    id=ret.id,
                    consignment_id=ret.consignment_id,
                    return_document=ret.return_document,
                    items=[{"item": i.item, "quantity": i.quantity} for i in ret.items],
                    within_window=ret.within_window,
                    window_ends=ret.window_ends,
                    goods_back_by=ret.goods_back_by,
                    quota_restored=None if ret.quota_restored is None else str(ret.quota_restored),
                    reason=ret.reason,
                    filed_by=ret.filed_by,
                    filed_at=ret.filed_at,
                )
            )
            if restore is not None:
                used = conn.execute(
                    select(q.person, q.jurisdiction, q.year).where(
                        q.consignment_id == restore.consignment_id, q.source == "release"
                    )
                ).first()
                if used is not None:
                    conn.execute(
                        insert(ta.quota_usage).values(
                            person=used[0],
                            jurisdiction=used[1],
                            year=used[2],
                            consignment_id=restore.consignment_id,
                            source=f"return:{ret.id}",
                            amount=str(-restore.amount),
                            currency=restore.currency,
                            at=ret.filed_at,
                        )
                    )

    def get_return(self, return_id: str) -> Return | None:
        with self.engine.connect() as conn:
            r = (
                conn.execute(select(ta.returns).where(ta.returns.c.id == return_id))
                .mappings()
                .first()
            )
        if r is None:
            return None
        return Return(
            r["id"],
            r["consignment_id"],
            r["return_document"],
            tuple(ReturnedItem(int(i["item"]), int(i["quantity"])) for i in r["items"]),
            bool(r["within_window"]),
            r["window_ends"],
            r["goods_back_by"],
            optional_decimal(r["quota_restored"]),
            r["reason"],
            r["filed_by"],
            stored_utc(r["filed_at"]),
        )

    def returns_of(self, consignment_id: str) -> list[str]:
        """The ids of the returns filed for an inbound parcel, oldest first."""
        r = ta.returns.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.id).where(r.consignment_id == consignment_id).order_by(r.filed_at, r.id)
            )
            return [str(row[0]) for row in rows]

    def refund_of_return(self, return_id: str) -> Refund | None:
        with self.engine.connect() as conn:
            r = (
                conn.execute(select(ta.refunds).where(ta.refunds.c.return_id == return_id))
                .mappings()
                .first()
            )
        return None if r is None else _refund(r)

    def collecting_account(self, consignment_id: str) -> str | None:
        li = ta.liabilities.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(li.account_id).where(li.consignment_id == consignment_id)
            ).first()
        return None if row is None else str(row[0])

    def add_refund(self, refund: Refund) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                insert(ta.refunds).values(
                    id=refund.id,
                    consignment_id=refund.consignment_id,
                    return_id=refund.return_id,
                    account_id=refund.account_id,
                    claimant=refund.claimant,
                    items=[{"item": i.item, "quantity": i.quantity} for i in refund.items],
                    currency=refund.currency,
                    amount=str(refund.amount),
                    lines=[
                        {
                            "item": ln.item,
                            "kind": ln.kind,
                            "rate": ln.rate,
                            "amount": str(ln.amount),
                        }
                        for ln in refund.lines
                    ],
                    status=refund.status,
                    reasons=list(refund.reasons),
                    claimed_at=refund.claimed_at,
                    period_id=None,
                )
            )

    def get_refund(self, refund_id: str) -> Refund | None:
        with self.engine.connect() as conn:
            r = (
                conn.execute(select(ta.refunds).where(ta.refunds.c.id == refund_id))
                .mappings()
                .first()
            )
        return None if r is None else _refund(r)

    def set_refund_status(self, refund_id: str, status: str, reasons: tuple[str, ...]) -> None:
        with writer(self.engine).begin() as conn:
            conn.execute(
                update(ta.refunds)
                .where(ta.refunds.c.id == refund_id)
                .values(status=status, reasons=list(reasons))
            )

    def refunds(self) -> list[Refund]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ta.refunds).order_by(ta.refunds.c.claimed_at)).mappings()
            return [_refund(r) for r in rows]


def _refund(r: Any) -> Refund:
    return Refund(
        r["id"],
        r["consignment_id"],
        r["return_id"],
        r["account_id"],
        r["claimant"],
        tuple(ReturnedItem(int(i["item"]), int(i["quantity"])) for i in r["items"]),
        r["currency"],
        Decimal(r["amount"]),
        tuple(
            RefundLine(x["item"], x["kind"], x["rate"], Decimal(x["amount"])) for x in r["lines"]
        ),
        r["status"],
        tuple(r["reasons"]),
        stored_utc(r["claimed_at"]),
        r["period_id"],
    )
