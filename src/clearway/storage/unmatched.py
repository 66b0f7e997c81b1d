"""Legs held as unmatched: written with the batch that received them, listed for officers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from clearway.clearance.joining import HeldLeg
from clearway.kernel.errors import Conflict, NotFound
from clearway.storage.engine import writer
from clearway.storage.repository import aware
from clearway.storage.tables_security import unmatched_legs as ul


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
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
    body: str
    closed_by: str | None = None
    closed_at: datetime | None = None
    note: str | None = None


def write_held(conn: Connection, held: Sequence[HeldLeg]) -> None:
    """Insert held legs in the batch's transaction; the same leg again is kept once."""
    rows: list[dict[str, Any]] = [
        {
            "id": h.id,
            "consignment_id": h.consignment_id,
            "operator_id": h.operator_id,
            "role": h.role,
            "kind": h.kind,
            "filer_reference": h.filer_reference,
            "body_hash": h.body_hash,
            "body": h.body,
            "format": h.format,
            "reason": h.reason,
            "received_at": h.received_at,
            "status": "open",
        }
        for h in held
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(ul).on_conflict_do_nothing(), rows)


def _row(r: Any) -> UnmatchedRow:
    return UnmatchedRow(
        r.id,
        r.consignment_id,
        r.operator_id,
        r.role,
        r.kind,
        r.filer_reference,
        r.format,
        r.reason,
        aware(r.received_at) or r.received_at,
        r.status,
        r.body,
        r.closed_by,
        aware(r.closed_at),
        r.note,
    )


class UnmatchedLegs:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, status: str | None = "open", limit: int = 100) -> list[UnmatchedRow]:
        q = select(ul).order_by(ul.c.received_at, ul.c.id).limit(limit)
        if status:
            q = q.where(ul.c.status == status)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def of_parcel(self, consignment_id: str) -> list[UnmatchedRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ul).where(ul.c.consignment_id == consignment_id))
            return [_row(r) for r in rows]

    def close(self, leg_id: str, who: str, note: str, at: datetime) -> UnmatchedRow:
        with writer(self.engine).begin() as conn:
            row = conn.execute(select(ul).where(ul.c.id == leg_id)).first()
            if row is None:
                raise NotFound(f"no unmatched leg {leg_id}")
            if row.status != "open":
                raise Conflict(f"unmatched leg {leg_id} is already closed")
            conn.execute(
                update(ul)
                .where(ul.c.id == leg_id)
                .values(status="closed", closed_by=who, closed_at=at, note=note)
            )
            closed = conn.execute(select(ul).where(ul.c.id == leg_id)).one()
        return _row(closed)
