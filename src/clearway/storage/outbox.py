"""The outbox of the queued runtime (PostgreSQL): written with the filings, read by the relay.

The relay is one process at a time: the holder of a session-level advisory lock. Should it die,
PostgreSQL drops the lock with its connection and a standby takes over; rows it published but
had not yet deleted are published again under the same message id, which JetStream's duplicate
window and the workers' version check both absorb.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, func, select, text

from clearway.clearance.pending import PendingDecision, encode_pending
from clearway.storage.bulk import bulk_insert
from clearway.storage.tables_queue import outbox


def write_outbox(conn: Connection, pending: Sequence[PendingDecision]) -> None:
    """Owe these decisions, inside the caller's transaction (COPY on PostgreSQL)."""
    bulk_insert(
        conn,
        outbox,
        [
            {
                "consignment_id": p.consignment_id,
                "version": p.version,
                "owner_id": p.owner_id,
                "payload": encode_pending(p).decode(),
                "created_at": p.filed_at,
            }
            for p in pending
        ],
    )


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    consignment_id: str
    version: int
    payload: bytes

    @property
    def key(self) -> str:
        return f"{self.consignment_id}:{self.version}"


@dataclass(frozen=True, slots=True)
class OutboxDepth:
    rows: int
    oldest: datetime | None


def depth(engine: Engine) -> OutboxDepth:
    with engine.connect() as conn:
        rows, oldest = conn.execute(select(func.count(), func.min(outbox.c.created_at))).one()
    return OutboxDepth(int(rows), oldest)


# Every owner with rows waiting, by a loose index scan on (owner_id, id): one index probe per
# owner instead of reading the whole backlog.
_OWNERS = text(
    """
    WITH RECURSIVE owners(owner_id) AS (
        (SELECT owner_id FROM outbox ORDER BY owner_id LIMIT 1)
        UNION ALL
        SELECT (SELECT o.owner_id FROM outbox o WHERE o.owner_id > owners.owner_id
                ORDER BY o.owner_id LIMIT 1)
        FROM owners WHERE owners.owner_id IS NOT NULL
    )
    SELECT owner_id FROM owners WHERE owner_id IS NOT NULL
    """
)
# Each owner's oldest rows, interleaved: every owner's first row, then every owner's second…
_FAIR = text(
    """
    SELECT r.id, r.consignment_id, r.version, r.payload
    FROM unnest(CAST(:owners AS text[])) AS w(owner_id)
    CROSS JOIN LATERAL (
        SELECT id, consignment_id, version, payload,
               row_number() OVER (ORDER BY id) AS turn
        FROM (SELECT id, consignment_id, version, payload FROM outbox
              WHERE outbox.owner_id = w.owner_id ORDER BY id LIMIT :share) mine
    ) r
    ORDER BY r.turn, r.id
    LIMIT :limit
    """
).bindparams(bindparam("owners"), bindparam("share"), bindparam("limit"))


def fair_batch(conn: Connection, limit: int) -> list[OutboxRow]:
    """Up to `limit` unpublished rows, shared evenly across owners, each owner's in order."""
    owners = [str(r[0]) for r in conn.execute(_OWNERS)]
    if not owners:
        return []
    share = max(1, -(-limit // len(owners)))
    rows = conn.execute(_FAIR, {"owners": owners, "share": share, "limit": limit})
    return [OutboxRow(int(i), str(c), int(v), str(p).encode()) for i, c, v, p in rows]


def delete_published(conn: Connection, ids: Sequence[int]) -> None:
    conn.execute(outbox.delete().where(outbox.c.id.in_(list(ids))))


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for the relay of one queue."""
    digest = hashlib.sha256(f"clearway-relay:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def try_lead(conn: Connection, name: str) -> bool:
    """Take the relay's leadership on this connection if nobody holds it (non-blocking)."""
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar()
    conn.commit()
    return bool(got)


def leader(engine: Engine, name: str) -> str | None:
    """Who relays now: the application name of the connection holding the lock."""
    key = lock_key(name)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.application_name, a.pid FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
            ),
            {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
        ).first()
    if row is None:
        return None
    return str(row[0] or f"backend {row[1]}")
