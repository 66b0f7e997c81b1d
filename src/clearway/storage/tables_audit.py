"""The tamper-evident record: hash-chained audit records and daily digests. Same `metadata`.

Both tables are append-only: the migration installs triggers refusing UPDATE and DELETE on
them and on `events` and `filings` (PostgreSQL and SQLite alike).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clearway.storage.tables import metadata

audit_records = Table(
    "audit_records",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("consignment_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),  # event | filing | assessment | decision
    Column("at", DateTime(timezone=True), nullable=False),
    Column("content", Text, nullable=False),  # canonical JSON of what is recorded
    Column("content_hash", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),  # chain hash of the previous record
    Column("chain_hash", String(64), nullable=False),
    # one successor per link: two writers appending to one chain at once cannot fork it
    UniqueConstraint("consignment_id", "prev_hash", name="uq_audit_records_link"),
)
Index("ix_audit_records_at", audit_records.c.at)

audit_digests = Table(
    "audit_digests",
    metadata,
    Column("day", Date, primary_key=True),
    Column("root", String(64), nullable=False),  # Merkle root over the day's chain heads
    Column("chains", Integer, nullable=False),
    Column("records", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)
