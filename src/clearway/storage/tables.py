"""The database schema (SQLAlchemy Core). Storage shapes stay apart from domain and API shapes.

Amounts are stored as decimal strings so that SQLite and PostgreSQL hold them exactly; analytics
read typed Parquet exports, not these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
_ID = 40  # prefixed ULIDs fit in 32; keep room
_SERIAL = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only

operators = Table(
    "operators",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("grants", String(200)),  # comma-separated extra rights, e.g. "consignments"
)

consignments = Table(
    "consignments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("transport_document", String(50), nullable=False, unique=True),
    Column("owner_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("version", Integer, nullable=False),
    # bumped by every write: a writer that loaded an older revision retries (optimistic lock)
    Column("revision", Integer, nullable=False, default=0),
    Column("status", String(24), nullable=False),
    Column("payment_status", String(16), nullable=False),
    Column("data_set", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("destination_country", String(2), nullable=False),
    Column("dispatch_country", String(2)),
    Column("office", String(32)),
    Column("legal_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("intrinsic_value", String(32), nullable=False),
    Column("lane", String(8)),
    Column("referral", String(32)),
    Column("score", String(16)),
    Column("random_sample", Boolean, nullable=False, default=False),
    Column("irg_category", Integer),
    Column("collection_model", String(16)),
    Column("assessed_currency", String(3)),
    Column("assessed_total", String(32)),
    Column("due_at_border", String(32)),
    Column("order_id", String(100)),
    Column("payment_id", String(100)),
    Column("consignee_key", String(200)),
    Column("seller_key", String(200)),
    Column("legs", String(100)),  # comma-separated kinds of the filings merged into it
    Column("document", Text, nullable=False),
    Column("decision", Text),
    Column("assessment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("arrived_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
)
Index("ix_consignments_status_lane", consignments.c.status, consignments.c.lane)
Index("ix_consignments_owner", consignments.c.owner_id)
Index("ix_consignments_order", consignments.c.order_id)
Index("ix_consignments_payment", consignments.c.payment_id)
Index("ix_consignments_consignee_day", consignments.c.consignee_key, consignments.c.legal_date)

filings = Table(
    "filings",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("filer_reference", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("format", String(16), nullable=False),
    Column("kind", String(16), nullable=False, default="declaration"),
    Column("warnings", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("operator_id", "filer_reference", "version", name="uq_filings_reference"),
)
Index("ix_filings_consignment", filings.c.consignment_id)
# (operator_id, filer_reference) look-ups use the unique constraint's index (its prefix)

events = Table(
    "events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24)),
    Column("data", JSON),
)
Index("ix_events_consignment", events.c.consignment_id, events.c.id)
Index("ix_events_kind_at", events.c.kind, events.c.at)

notices = Table(
    "notices",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_notices_operator_cursor", notices.c.operator_id, notices.c.id)

holds = Table(
    "holds",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("authority", String(64), nullable=False),  # "customs" or an agency code
    Column("reason", Text, nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("lifted_by", String(200)),
    Column("lifted_at", DateTime(timezone=True)),
    Column("lift_reason", Text),
)
Index("ix_holds_consignment", holds.c.consignment_id)

inspections = Table(
    "inspections",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("officer", String(200), nullable=False),
    Column("found", Boolean, nullable=False),
    Column("corrected_value", String(32)),
    Column("corrected_hs_code", String(10)),
    Column("notes", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_inspections_consignment", inspections.c.consignment_id)
