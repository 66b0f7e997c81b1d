"""Tables of the security capability: failed web logins (lockout with back-off). Same
`metadata` as `storage.tables`; migration `0003_security` creates them
(and adds `api_keys.grants`, declared in `storage.tables`)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, UniqueConstraint

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
