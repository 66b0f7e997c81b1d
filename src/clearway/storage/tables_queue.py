"""The outbox of the queued runtime. Same `metadata` as `storage.tables`.

A row is written in the same transaction as the filing that owes a decision, and deleted by the
relay once JetStream has acknowledged the message, so the table holds only what is not yet
published: its size is the outbox depth.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from clearway.storage.tables import metadata

outbox = Table(
    "outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("consignment_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("owner_id", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
# The relay's fair pick walks the owners (a loose index scan) and takes each one's oldest rows.
Index("ix_outbox_owner_id", outbox.c.owner_id, outbox.c.id)
