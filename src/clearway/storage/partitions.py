"""Monthly partitions of the event log on PostgreSQL: named, created ahead, listed.

`events` is range-partitioned on `at` (migration `0007_events_partitioned`): partition
`events_YYYY_MM` holds the events of one calendar month in UTC, `events_default` whatever falls
outside every month created (a far-off clock, a month not created in time). `ensure_ahead` —
run by every schema upgrade for the current and next month, and daily by `clearway db
partitions` for a few months ahead — creates the months missing; a month whose events already
sit in the default partition is left there and reported (moving them would mean deleting from
an append-only table). Each new partition gets the append-only TRUNCATE guard, which
PostgreSQL does not clone from the parent as it does the row triggers. SQLite has no
partitions: every function here is a no-op there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, text

PARENT = "events"
DEFAULT = "events_default"
AHEAD = 3  # months created ahead by the daily command


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_{month:%Y_%m}"


def bounds(month: date) -> tuple[str, str]:
    """The month's range in UTC, as timestamptz literals (lower inclusive, upper exclusive)."""
    return f"{month:%Y-%m-%d} 00:00:00+00", f"{add_months(month, 1):%Y-%m-%d} 00:00:00+00"


@dataclass
class PartitionReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    # months not created because their events already sit in the default partition: (name, rows)
    held: list[tuple[str, int]] = field(default_factory=list)


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(
        text("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:t)"),
        {"t": PARENT},
    ).scalar()
    return kind == "p"


def partitions(conn: Connection) -> list[str]:
    """The partitions of `events`, by name (the default one included)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
        ),
        {"t": PARENT},
    )
    return [str(r[0]) for r in rows]


def _lock_key() -> int:
    digest = hashlib.sha256(b"clearway-partitions:events").digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def guard_truncate(conn: Connection, name: str) -> None:
    """The append-only guard against TRUNCATE on one partition (row triggers are inherited)."""
    conn.execute(
        text(
            f'CREATE TRIGGER "{name}_no_truncate" BEFORE TRUNCATE ON "{name}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION clearway_append_only()"
        )
    )


def ensure_months(conn: Connection, months: Iterable[date]) -> PartitionReport:
    """Create the partitions of `months` that are missing, inside the caller's transaction.

    Serialised by a transaction-level advisory lock, so processes starting together (each
    upgrades the schema) do not race to create the same month."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key()})
    have = set(partitions(conn))
    report = PartitionReport()
    for month in sorted({month_start(m) for m in months}):
        name = partition_name(month)
        if name in have:
            report.existing.append(name)
            continue
        low, high = bounds(month)
        if DEFAULT in have:
            stranded = conn.execute(
                text(f'SELECT count(*) FROM "{DEFAULT}" WHERE at >= :lo AND at < :hi'),
                {"lo": low, "hi": high},
            ).scalar_one()
            if stranded:
                report.held.append((name, int(stranded)))
                continue
        conn.execute(
            text(
                f'CREATE TABLE "{name}" PARTITION OF "{PARENT}" '
                f"FOR VALUES FROM ('{low}') TO ('{high}')"
            )
        )
        guard_truncate(conn, name)
        have.add(name)
        report.created.append(name)
    return report


def months_ahead(today: date, ahead: int) -> Sequence[date]:
    first = month_start(today)
    return [add_months(first, n) for n in range(ahead + 1)]


def ensure_ahead(engine: Engine, today: date, ahead: int = 1) -> PartitionReport | None:
    """Create this month's partition and the next `ahead` months'; None where `events` is not
    partitioned (SQLite, or a schema not yet upgraded)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.begin() as conn:
        if not is_partitioned(conn):
            return None
        return ensure_months(conn, months_ahead(today, ahead))
