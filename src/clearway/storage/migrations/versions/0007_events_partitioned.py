"""scale: the event log partitioned by month on PostgreSQL (SQLite unchanged)

`events` becomes a table range-partitioned on `at`: primary key `(id, at)` (a partitioned
table's unique constraints must include the partition key; `id` stays unique, drawn from the
same sequence), one partition per month in UTC (`events_YYYY_MM`) and a default partition.
Existing events are copied, ids kept, into the partitions of their months, created here with
the current and next month's; later months are created by `clearway db partitions` and by
every `clearway db upgrade`. The append-only guard is put back: the row trigger on the parent
(PostgreSQL clones it onto every partition, present and future) and a TRUNCATE trigger on the
parent and on each partition. See docs/scale.md, "Partitioning".

Revision ID: 0007_events_partitioned
Revises: 0006_audit_chain
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import op
from sqlalchemy import Connection, text

from clearway.storage.partitions import (
    DEFAULT,
    PARENT,
    ensure_months,
    guard_truncate,
    months_ahead,
    partitions,
)

revision = "0007_events_partitioned"
down_revision = "0006_audit_chain"
branch_labels = None
depends_on = None

_OLD = "events_set_aside"  # the table being replaced, either way
_COLUMNS = "id, consignment_id, kind, at, actor, from_status, to_status, data"


def _guard_rows(conn: Connection) -> None:
    conn.execute(
        text(
            f"CREATE TRIGGER {PARENT}_append_only BEFORE UPDATE OR DELETE ON {PARENT} "
            "FOR EACH ROW EXECUTE FUNCTION clearway_append_only()"
        )
    )
    conn.execute(
        text(
            f"CREATE TRIGGER {PARENT}_no_truncate BEFORE TRUNCATE ON {PARENT} "
            "FOR EACH STATEMENT EXECUTE FUNCTION clearway_append_only()"
        )
    )


def _set_aside(conn: Connection) -> None:
    """Rename the current table out of the way, keeping its id sequence for the new one."""
    conn.execute(text(f"DROP TRIGGER IF EXISTS {PARENT}_append_only ON {PARENT}"))
    conn.execute(text(f"DROP TRIGGER IF EXISTS {PARENT}_no_truncate ON {PARENT}"))
    conn.execute(text("DROP INDEX IF EXISTS ix_events_consignment"))
    conn.execute(text("DROP INDEX IF EXISTS ix_events_kind_at"))
    conn.execute(text(f"ALTER TABLE {PARENT} RENAME TO {_OLD}"))
    conn.execute(text(f"ALTER TABLE {_OLD} RENAME CONSTRAINT pk_events TO pk_{_OLD}"))
    conn.execute(
        text(
            f"ALTER TABLE {_OLD} RENAME CONSTRAINT fk_events_consignment_id_consignments "
            f"TO fk_{_OLD}_consignment_id"
        )
    )


def _finish(conn: Connection) -> None:
    """Move the rows over (ids kept), hand the sequence over, drop the old table, index."""
    sequence = conn.execute(text(f"SELECT pg_get_serial_sequence('{_OLD}', 'id')")).scalar()
    conn.execute(
        text(f"INSERT INTO {PARENT} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_OLD} ORDER BY id")
    )
    if sequence:
        conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {PARENT}.id"))
    conn.execute(text(f"DROP TABLE {_OLD}"))
    conn.execute(text(f"CREATE INDEX ix_events_consignment ON {PARENT} (consignment_id, id)"))
    conn.execute(text(f"CREATE INDEX ix_events_kind_at ON {PARENT} (kind, at)"))
    _guard_rows(conn)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    _set_aside(conn)
    conn.execute(
        text(
            f"CREATE TABLE {PARENT} (LIKE {_OLD} INCLUDING DEFAULTS, "
            "CONSTRAINT pk_events PRIMARY KEY (id, at), "
            "CONSTRAINT fk_events_consignment_id_consignments FOREIGN KEY (consignment_id) "
            "REFERENCES consignments (id)) PARTITION BY RANGE (at)"
        )
    )
    conn.execute(text(f"CREATE TABLE {DEFAULT} PARTITION OF {PARENT} DEFAULT"))
    guard_truncate(conn, DEFAULT)
    held = [
        r[0]
        for r in conn.execute(
            text(f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')::date FROM {_OLD}")
        )
    ]
    today = datetime.now(UTC).date()
    ensure_months(conn, [*held, *months_ahead(today, 1)])
    _finish(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    _set_aside(conn)
    conn.execute(
        text(
            f"CREATE TABLE {PARENT} (LIKE {_OLD} INCLUDING DEFAULTS, "
            "CONSTRAINT pk_events PRIMARY KEY (id), "
            "CONSTRAINT fk_events_consignment_id_consignments FOREIGN KEY (consignment_id) "
            "REFERENCES consignments (id))"
        )
    )
    for name in partitions(conn):  # their TRUNCATE guards go with them
        conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}_no_truncate" ON "{name}"'))
    _finish(conn)
