"""Tables of the security capability: failed web logins (lockout with back-off), operators'
payment claims, legs held as unmatched. Same `metadata` as `storage.tables`; migrations
`0003_security` and `0004_unmatched_legs` create them
(and adds `api_keys.grants`, declared in `storage.tables`)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from clearway.storage.tables import metadata

login_failures = Table(
    "login_failures",
    metadata,
    # "user:<name>", "addr:<address>" or "key:<prefix>": each is locked on its own
    Column("subject", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),  # consecutive, since the last success
    Column("locked_until", DateTime(timezone=True)),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
)

# An operator's own statement that it paid a declaration: it closes nothing until an officer
# records the payment or a reconciliation import (the bank statement) confirms it.
payment_claims = Table(
    "payment_claims",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("period", String(7), nullable=False),
    Column("amount", String(40), nullable=False),  # decimal string
    Column("currency", String(3), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("status", String(32), nullable=False),  # pending_confirmation | confirmed
    Column("claimed_by", String(250), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", String(250)),
    Column("confirmed_at", DateTime(timezone=True)),
    UniqueConstraint("account_id", "period", "reference", name="uq_payment_claims_reference"),
)

# Legs that asked to join another operator's parcel and were not allowed to: kept whole (nothing
# accepted is lost) for an officer, and told to nobody else.
unmatched_legs = Table(
    "unmatched_legs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("consignment_id", String(40), nullable=False),  # the parcel it asked to join
    Column("operator_id", String(40), nullable=False),
    Column("role", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("filer_reference", String(100), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("format", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("closed_by", String(250)),
    Column("closed_at", DateTime(timezone=True)),
    Column("note", Text),
    UniqueConstraint("operator_id", "filer_reference", "body_hash", name="uq_unmatched_legs_body"),
)
Index("ix_unmatched_legs_status", unmatched_legs.c.status, unmatched_legs.c.received_at)
