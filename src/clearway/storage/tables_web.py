"""Tables for the web pages: people who log in, their sessions, Single Window routing, rule-hit
index, and versioned risk-profile edits. Same `metadata` as `storage.tables`.

The queue indexes on `consignments` and `holds` are declared here because the pages are what
need them (migration 0002_web creates them).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clearway.storage import tables as t
from clearway.storage.tables import metadata

_ID = 40

web_users = Table(
    "web_users",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),  # argon2id, with its parameters
    Column("role", String(32), nullable=False),
    Column("agency", String(64)),  # the agency code a user of role `agency` acts for
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("agency", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_web_sessions_expires", web_sessions.c.expires_at)

# Which agency each consignment is routed to (Single Window), and why.
web_routes = Table(
    "web_routes",
    metadata,
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("agency", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("matched", Text, nullable=False),  # what matched: "chapter 02" / "keyword 'honey'"
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("consignment_id", "agency", name="pk_web_routes"),
)
Index("ix_web_routes_agency", web_routes.c.agency, web_routes.c.consignment_id)

# Risk-profile hits per consignment, extracted from decisions for hit counts and rates.
web_rule_hits = Table(
    "web_rule_hits",
    metadata,
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("profile_id", String(64), nullable=False),
    PrimaryKeyConstraint("consignment_id", "profile_id", name="pk_web_rule_hits"),
)
Index("ix_web_rule_hits_profile", web_rule_hits.c.profile_id)

# How far the routing/hit index has read consignments (by updated_at).
web_sweeps = Table(
    "web_sweeps",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("watermark", DateTime(timezone=True)),
)

# Versioned, audited edits of risk profiles: each row is one version, proposed by one analyst and
# in force from its date once a second person approved it (status proposed → approved, rejected
# or withdrawn; rows from before reviews existed are `approved` with no reviewer).
web_profile_versions = Table(
    "web_profile_versions",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("profile_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("weight", String(16), nullable=False),
    Column("lane", String(8)),
    Column("referral", String(32)),
    Column("reason", Text, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_until", Date),
    Column("note", Text, nullable=False),
    Column("edited_by", String(200), nullable=False),
    Column("edited_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, server_default="approved"),
    Column("reviewed_by", String(200)),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_note", Text),
    UniqueConstraint("profile_id", "version", name="uq_web_profile_versions_version"),
)

# Work-queue indexes: held parcels by status, then lane / office, ordered by arrival (age).
QUEUE_INDEXES = (
    Index("ix_consignments_status_arrived", t.consignments.c.status, t.consignments.c.arrived_at),
    Index(
        "ix_consignments_status_lane_arrived",
        t.consignments.c.status,
        t.consignments.c.lane,
        t.consignments.c.arrived_at,
    ),
    Index(
        "ix_consignments_status_office_arrived",
        t.consignments.c.status,
        t.consignments.c.office,
        t.consignments.c.arrived_at,
    ),
    Index("ix_consignments_updated_at", t.consignments.c.updated_at),
    Index(
        "ix_holds_open_reason",
        t.holds.c.reason,
        t.holds.c.consignment_id,
        sqlite_where=t.holds.c.lifted_at.is_(None),
        postgresql_where=t.holds.c.lifted_at.is_(None),
    ),
    Index(
        "ix_holds_open_authority",
        t.holds.c.authority,
        t.holds.c.consignment_id,
        sqlite_where=t.holds.c.lifted_at.is_(None),
        postgresql_where=t.holds.c.lifted_at.is_(None),
    ),
)
