"""SQL implementation of the accounts store and the per-registration reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearway.accounts.model import (
    Account,
    AccountPayment,
    Declaration,
    Difference,
    Liability,
    Line,
    QuotaEntry,
    Registration,
    Released,
    ReportUpload,
    Total,
)
from clearway.accounts.quotas import quota_person
from clearway.accounts.service import counts_toward_quota
from clearway.domain.assessment import Assessment
from clearway.domain.filing import FilingDocument
from clearway.storage import tables as t
from clearway.storage import tables_accounts as ta
from clearway.storage.repository import aware
from clearway.storage.returns_repository import SqlReturns, optional_decimal, stored_utc

_ASSESSMENT = msgspec.json.Decoder(Assessment)
_DOC = msgspec.json.Decoder(FilingDocument)
CHUNK = 500


class SqlAccounts(SqlReturns):
    """The accounts store and the returns store (`accounts.ports`, `returns.ports`) over SQL."""

    # ------------------------------------------------------------ registrations and accounts
    def add_registration(self, reg: Registration) -> None:
        with self._writer.begin() as conn:
            conn.execute(insert(ta.registrations).values(**_fields(reg)))

    def update_registration(self, reg: Registration) -> None:
        row = _fields(reg)
        with self._writer.begin() as conn:
            conn.execute(
                update(ta.registrations).where(ta.registrations.c.id == reg.id).values(**row)
            )

    def registrations(self) -> list[Registration]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ta.registrations)).mappings()
            return [
                Registration(
                    **{
                        **dict(r),
                        "created_at": stored_utc(r["created_at"]),
                        "updated_at": stored_utc(r["updated_at"]),
                    }
                )
                for r in rows
            ]

    def add_account(self, account: Account) -> None:
        row = _fields(account)
        row["guarantee"] = str(account.guarantee)
        with self._writer.begin() as conn:
            conn.execute(insert(ta.accounts).values(**row))

    def update_account(self, account: Account) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                update(ta.accounts)
                .where(ta.accounts.c.id == account.id)
                .values(guarantee=str(account.guarantee), updated_at=account.updated_at)
            )

    def accounts(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ta.accounts)).mappings()
            return [
                Account(
                    r["id"],
                    r["operator_id"],
                    r["currency"],
                    Decimal(r["guarantee"]),
                    stored_utc(r["created_at"]),
                    stored_utc(r["updated_at"]),
                )
                for r in rows
            ]

    def operator_id(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.operators.c.id).where(t.operators.c.name == name)).first()
        return None if row is None else str(row[0])

    def operator_names(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {
                str(i): str(n)
                for i, n in conn.execute(select(t.operators.c.id, t.operators.c.name))
            }

    # ------------------------------------------------------------ liabilities and quotas
    def add_liabilities(self, rows: Sequence[Liability]) -> int:
        return self._insert_new(
            ta.liabilities,
            [
                {
                    **_fields(li),
                    "amount": str(li.amount),
                    "paid": False,
                    "period_id": None,
                }
                for li in rows
            ],
            ta.liabilities.c.consignment_id,
            lambda r: r["consignment_id"],
        )

    def add_quota_entries(self, rows: Sequence[QuotaEntry]) -> int:
        return self._insert_new(
            ta.quota_usage,
            [{**_fields(q), "amount": str(q.amount)} for q in rows],
            ta.quota_usage.c.consignment_id,
            lambda r: r["consignment_id"],
            source=True,
        )

    def _insert_new(
        self,
        table: Any,
        rows: list[dict[str, Any]],
        key_col: Any,
        key: Any,
        *,
        source: bool = False,
    ) -> int:
        """Insert the rows whose key is not stored yet; a concurrent insert of the same key is
        retried once and then skipped (the unique constraint decides)."""
        if not rows:
            return 0
        for attempt in range(3):
            try:
                with self._writer.begin() as conn:
                    keys = [key(r) for r in rows]
                    have: set[Any] = set()
                    for i in range(0, len(keys), CHUNK):
                        q = select(key_col, table.c.source) if source else select(key_col)
                        q = q.where(key_col.in_(keys[i : i + CHUNK]))
                        have.update(tuple(x) if source else x[0] for x in conn.execute(q))
                    new = [
                        r for r in rows if ((key(r), r["source"]) if source else key(r)) not in have
                    ]
                    if new:
                        conn.execute(insert(table), new)
                    return len(new)
            except IntegrityError:
                if attempt == 2:
                    raise
        return 0

    def open_liability(self, account_id: str) -> Decimal:
        li = ta.liabilities.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(li.amount).where(li.account_id == account_id, li.paid.is_(False))
            )
            return sum((Decimal(a) for (a,) in rows), Decimal(0))

    def open_liabilities(self) -> dict[str, Decimal]:
        li = ta.liabilities.c
        out: dict[str, Decimal] = defaultdict(Decimal)
        with self.engine.connect() as conn:
            for acc, amount in conn.execute(
                select(li.account_id, li.amount).where(li.paid.is_(False))
            ):
                out[str(acc)] += Decimal(amount)
        return dict(out)

    def released_without_liability(self, since: datetime, until: datetime) -> list[Released]:
        c = t.consignments.c
        li = ta.liabilities.c
        q = ta.quota_usage.c
        stmt = (
            select(c.id, c.transport_document, c.owner_id, c.closed_at, c.document, c.assessment)
            .select_from(
                t.consignments.outerjoin(ta.liabilities, li.consignment_id == c.id).outerjoin(
                    ta.quota_usage, and_(q.consignment_id == c.id, q.source == "release")
                )
            )
            .where(
                c.status == "released",
                c.closed_at >= since,
                c.closed_at < until,
                c.assessment.is_not(None),
                li.id.is_(None),
                q.id.is_(None),
            )
        )
        out: list[Released] = []
        with self.engine.connect() as conn:
            for cid, td, owner, closed, doc_text, a_text in conn.execute(stmt):
                a = _ASSESSMENT.decode(a_text)
                cbec = counts_toward_quota(a.flags)
                if not cbec and not (a.payable_by in ("vendor", "intermediary") and a.total > 0):
                    continue
                doc = _DOC.decode(doc_text)
                out.append(
                    Released(
                        cid,
                        td,
                        owner,
                        stored_utc(closed),
                        a.collection_model,
                        a.payable_by,
                        doc.collection.registration_number if doc.collection else None,
                        a.currency,
                        a.total,
                        a.jurisdiction,
                        a.customs_value,
                        quota_person(doc),
                        cbec,
                    )
                )
        return out

    def quota_entries(self, person: str, year: int) -> list[QuotaEntry]:
        q = ta.quota_usage.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ta.quota_usage).where(q.person == person, q.year == year).order_by(q.id)
            ).mappings()
            return [
                QuotaEntry(
                    r["person"],
                    r["jurisdiction"],
                    r["year"],
                    r["consignment_id"],
                    r["source"],
                    Decimal(r["amount"]),
                    r["currency"],
                    stored_utc(r["at"]),
                )
                for r in rows
            ]

    def quota_totals_after(self, watermark: int, year: int) -> tuple[int, dict[str, Decimal]]:
        q = ta.quota_usage.c
        out: dict[str, Decimal] = defaultdict(Decimal)
        mark = watermark
        with self.engine.connect() as conn:
            for rid, person, amount in conn.execute(
                select(q.id, q.person, q.amount).where(q.id > watermark, q.year == year)
            ):
                out[person] += Decimal(amount)
                mark = max(mark, int(rid))
            # Entries of other years move the mark too, so they are not read again.
            top = conn.execute(select(func.max(q.id))).scalar()
        return max(mark, int(top or 0)), dict(out)

    # ------------------------------------------------------------ declarations
    def undeclared_liabilities(self, account_id: str, up_to_period: str) -> list[Liability]:
        li = ta.liabilities.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ta.liabilities)
                .where(
                    li.account_id == account_id,
                    li.period <= up_to_period,
                    li.period_id.is_(None),
                )
                .order_by(li.released_at, li.consignment_id)
            ).mappings()
            return [
                Liability(
                    r["id"],
                    r["consignment_id"],
                    r["account_id"],
                    r["registration_number"],
                    r["period"],
                    r["currency"],
                    Decimal(r["amount"]),
                    stored_utc(r["released_at"]),
                )
                for r in rows
            ]

    def assessments(self, consignment_ids: Sequence[str]) -> dict[str, tuple[str, Assessment]]:
        c = t.consignments.c
        out: dict[str, tuple[str, Assessment]] = {}
        ids = list(consignment_ids)
        with self.engine.connect() as conn:
            for i in range(0, len(ids), CHUNK):
                for cid, td, a in conn.execute(
                    select(c.id, c.transport_document, c.assessment).where(
                        c.id.in_(ids[i : i + CHUNK])
                    )
                ):
                    out[cid] = (td, _ASSESSMENT.decode(a))
        return out

    def undeclared_refund_lines(self, account_id: str, until: datetime) -> list[Line]:
        r = ta.refunds.c
        c = t.consignments.c
        out: list[Line] = []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.id, r.consignment_id, r.lines, c.transport_document, c.document)
                .join(t.consignments, c.id == r.consignment_id)
                .where(
                    r.account_id == account_id,
                    r.status == "approved",
                    r.period_id.is_(None),
                    r.claimed_at < until,
                )
                .order_by(r.claimed_at, r.id)
            )
            for rid, cid, lines, td, doc_text in rows:
                doc = _DOC.decode(doc_text)
                number = doc.collection.registration_number if doc.collection else None
                for ln in lines:
                    out.append(
                        Line(
                            cid,
                            td,
                            number,
                            ln["item"],
                            ln["kind"],
                            ln["rate"],
                            -Decimal(ln["amount"]),
                            rid,
                        )
                    )
        return out

    def save_declaration(self, d: Declaration, liability_ids: Sequence[str]) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                insert(ta.periods).values(
                    id=d.id,
                    account_id=d.account_id,
                    period=d.period,
                    status=d.status,
                    currency=d.currency,
                    total=str(d.total),
                    totals=_totals_json(d.totals),
                    declared_at=d.declared_at,
                )
            )
            if d.lines:
                conn.execute(
                    insert(ta.declaration_lines),
                    [
                        {
                            "period_id": d.id,
                            "consignment_id": ln.consignment_id,
                            "transport_document": ln.transport_document,
                            "registration_number": ln.registration_number,
                            "item": ln.item,
                            "kind": ln.kind,
                            "rate": ln.rate,
                            "amount": str(ln.amount),
                            "refund_id": ln.refund_id,
                        }
                        for ln in d.lines
                    ],
                )
            ids = list(liability_ids)
            for i in range(0, len(ids), CHUNK):
                conn.execute(
                    update(ta.liabilities)
                    .where(ta.liabilities.c.id.in_(ids[i : i + CHUNK]))
                    .values(period_id=d.id)
                )
            refunds = sorted({ln.refund_id for ln in d.lines if ln.refund_id})
            if refunds:
                conn.execute(
                    update(ta.refunds).where(ta.refunds.c.id.in_(refunds)).values(period_id=d.id)
                )

    def declaration(self, account_id: str, period: str, *, lines: bool) -> Declaration | None:
        p = ta.periods.c
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(ta.periods).where(p.account_id == account_id, p.period == period)
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            d = _declaration(row)
            if lines:
                d.lines = self._lines(conn, d.id)
            return d

    def declarations(self, account_id: str) -> list[Declaration]:
        p = ta.periods.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ta.periods).where(p.account_id == account_id).order_by(p.period)
            ).mappings()
            return [_declaration(r) for r in rows]

    def all_declarations(self) -> list[Declaration]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ta.periods).order_by(ta.periods.c.period, ta.periods.c.account_id)
            ).mappings()
            return [_declaration(r) for r in rows]

    @staticmethod
    def _lines(conn: Connection, period_id: str) -> list[Line]:
        ln = ta.declaration_lines.c
        rows = conn.execute(
            select(ta.declaration_lines).where(ln.period_id == period_id).order_by(ln.id)
        ).mappings()
        return [
            Line(
                r["consignment_id"],
                r["transport_document"],
                r["registration_number"],
                r["item"],
                r["kind"],
                r["rate"],
                Decimal(r["amount"]),
                r["refund_id"],
            )
            for r in rows
        ]

    def save_upload(self, upload: ReportUpload) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                insert(ta.report_uploads).values(
                    id=upload.id,
                    period_id=upload.period_id,
                    format=upload.format,
                    lines=upload.lines,
                    reported_total=str(upload.reported_total),
                    differences=len(upload.differences),
                    uploaded_by=upload.uploaded_by,
                    uploaded_at=upload.uploaded_at,
                )
            )
            if upload.differences:
                conn.execute(
                    insert(ta.report_differences),
                    [
                        {
                            "upload_id": upload.id,
                            "transport_document": d.transport_document,
                            "kind": d.kind,
                            "code": d.code,
                            "recorded": None if d.recorded is None else str(d.recorded),
                            "reported": None if d.reported is None else str(d.reported),
                            "difference": str(d.difference),
                        }
                        for d in upload.differences
                    ],
                )

    def uploads(self, period_id: str) -> list[ReportUpload]:
        u = ta.report_uploads.c
        d = ta.report_differences.c
        with self.engine.connect() as conn:
            ups = (
                conn.execute(
                    select(ta.report_uploads)
                    .where(u.period_id == period_id)
                    .order_by(u.uploaded_at)
                )
                .mappings()
                .all()
            )
            out = []
            for r in ups:
                diffs = conn.execute(
                    select(ta.report_differences).where(d.upload_id == r["id"]).order_by(d.id)
                ).mappings()
                out.append(
                    ReportUpload(
                        r["id"],
                        r["period_id"],
                        r["format"],
                        r["lines"],
                        Decimal(r["reported_total"]),
                        [
                            Difference(
                                x["transport_document"],
                                x["kind"],
                                x["code"],
                                optional_decimal(x["recorded"]),
                                optional_decimal(x["reported"]),
                            )
                            for x in diffs
                        ],
                        r["uploaded_by"],
                        stored_utc(r["uploaded_at"]),
                    )
                )
            return out

    def save_payment(self, payment: AccountPayment, closed_at: datetime) -> None:
        with self._writer.begin() as conn:
            conn.execute(
                insert(ta.account_payments).values(
                    **{**_fields(payment), "amount": str(payment.amount)}
                )
            )
            done = conn.execute(
                update(ta.periods)
                .where(ta.periods.c.id == payment.period_id, ta.periods.c.status == "declared")
                .values(status="closed", paid_at=payment.paid_at, closed_at=closed_at)
            )
            if done.rowcount != 1:
                raise IntegrityError("period already closed", None, Exception("closed"))
            conn.execute(
                update(ta.liabilities)
                .where(ta.liabilities.c.period_id == payment.period_id)
                .values(paid=True)
            )

    def payments(self) -> list[AccountPayment]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ta.account_payments).order_by(ta.account_payments.c.paid_at)
            ).mappings()
            return [
                AccountPayment(
                    r["id"],
                    r["period_id"],
                    r["account_id"],
                    Decimal(r["amount"]),
                    r["currency"],
                    r["reference"],
                    r["recorded_by"],
                    stored_utc(r["paid_at"]),
                )
                for r in rows
            ]

    def held_by(self, marker: str) -> list[str]:
        """Parcels with an open hold whose reason starts with `marker`."""
        h = t.holds.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(h.consignment_id)
                .where(h.lifted_at.is_(None), h.reason.startswith(marker, autoescape=True))
                .distinct()
            )
            return sorted(str(r[0]) for r in rows)

    # ------------------------------------------------------------ reports
    def registration_totals(self, period: str) -> list[dict[str, Any]]:
        """Per registration number: parcels released in the month and their totals (the
        per-number surveillance report)."""
        li = ta.liabilities.c
        sums: dict[tuple[str, str, str], list[Any]] = {}
        with self.engine.connect() as conn:
            for number, acc, cur, amount in conn.execute(
                select(li.registration_number, li.account_id, li.currency, li.amount).where(
                    li.period == period
                )
            ):
                key = (number or "", str(acc), str(cur))
                entry = sums.setdefault(key, [0, Decimal(0)])
                entry[0] += 1
                entry[1] += Decimal(amount)
        return [
            {
                "period": period,
                "registration_number": k[0] or None,
                "account_id": k[1],
                "currency": k[2],
                "parcels": v[0],
                "total": str(v[1]),
            }
            for k, v in sorted(sums.items())
        ]


def _fields(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def _totals_json(totals: Sequence[Total]) -> list[dict[str, Any]]:
    return [{"kind": x.kind, "rate": x.rate, "amount": str(x.amount)} for x in totals]


def _declaration(r: Any) -> Declaration:
    return Declaration(
        r["id"],
        r["account_id"],
        r["period"],
        r["status"],
        r["currency"],
        Decimal(r["total"]),
        [Total(x["kind"], x["rate"], Decimal(x["amount"])) for x in r["totals"]],
        stored_utc(r["declared_at"]),
        aware(r["paid_at"]),
        aware(r["closed_at"]),
    )
