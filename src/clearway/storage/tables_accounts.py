"""Tables of accounts, collection and returns, on the same `metadata` as the clearance tables.

Registrations (IOSS-style numbers with validity and AEO standing), accounts with guarantees and
per-parcel liabilities, monthly declarations (periods) with item-level lines, operator report
uploads and their differences, account payments, quota usage, returns and refunds. Amounts are
decimal strings, as everywhere in the live database.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from clearway.storage.tables import _ID, _SERIAL, metadata

_AMOUNT = 32

registrations = Table(
    "registrations",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("scheme", String(32), nullable=False),  # ioss, intermediary, voec, cbec, national…
    Column("jurisdiction", String(8), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    Column("status", String(16), nullable=False),  # active | suspended | revoked
    Column("status_reason", Text),
    Column("aeo", Boolean, nullable=False, default=False),
    Column("account_id", String(_ID), ForeignKey("accounts.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_registrations_operator", registrations.c.operator_id)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("operator_id", String(_ID), ForeignKey("operators.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("guarantee", String(_AMOUNT), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("operator_id", "currency", name="uq_accounts_operator_currency"),
)

liabilities = Table(
    "liabilities",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("account_id", String(_ID), ForeignKey("accounts.id"), nullable=False),
    Column("registration_number", String(40)),
    Column("period", String(7), nullable=False),  # YYYY-MM of the release
    Column("currency", String(3), nullable=False),
    Column("amount", String(_AMOUNT), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Column("period_id", String(_ID), ForeignKey("periods.id")),
    Column("paid", Boolean, nullable=False, default=False),
    UniqueConstraint("consignment_id", name="uq_liabilities_consignment_id"),
)
Index("ix_liabilities_account_period", liabilities.c.account_id, liabilities.c.period)
Index("ix_liabilities_account_paid", liabilities.c.account_id, liabilities.c.paid)

periods = Table(
    "periods",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("account_id", String(_ID), ForeignKey("accounts.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("status", String(16), nullable=False),  # declared | closed
    Column("currency", String(3), nullable=False),
    Column("total", String(_AMOUNT), nullable=False),
    Column("totals", JSON, nullable=False),  # [{kind, rate, amount}]
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    UniqueConstraint("account_id", "period", name="uq_periods_account_period"),
)

declaration_lines = Table(
    "declaration_lines",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("period_id", String(_ID), ForeignKey("periods.id"), nullable=False),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("transport_document", String(50), nullable=False),
    Column("registration_number", String(40)),
    Column("item", Integer),
    Column("kind", String(24), nullable=False),
    Column("rate", String(80)),
    Column("amount", String(_AMOUNT), nullable=False),
    Column("refund_id", String(_ID)),
)
Index("ix_declaration_lines_period", declaration_lines.c.period_id)

report_uploads = Table(
    "report_uploads",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("period_id", String(_ID), ForeignKey("periods.id"), nullable=False),
    Column("format", String(8), nullable=False),
    Column("lines", Integer, nullable=False),
    Column("reported_total", String(_AMOUNT), nullable=False),
    Column("differences", Integer, nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_report_uploads_period", report_uploads.c.period_id)

report_differences = Table(
    "report_differences",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("upload_id", String(_ID), ForeignKey("report_uploads.id"), nullable=False),
    Column("transport_document", String(50), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("code", String(32), nullable=False),
    Column("recorded", String(_AMOUNT)),
    Column("reported", String(_AMOUNT)),
    Column("difference", String(_AMOUNT), nullable=False),
)
Index("ix_report_differences_upload", report_differences.c.upload_id)

account_payments = Table(
    "account_payments",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("period_id", String(_ID), ForeignKey("periods.id"), nullable=False),
    Column("account_id", String(_ID), ForeignKey("accounts.id"), nullable=False),
    Column("amount", String(_AMOUNT), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(100), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("period_id", name="uq_account_payments_period_id"),
)

quota_usage = Table(
    "quota_usage",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("person", String(200), nullable=False),
    Column("jurisdiction", String(8), nullable=False),
    Column("year", Integer, nullable=False),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("source", String(48), nullable=False),  # "release" or "return:<id>"
    Column("amount", String(_AMOUNT), nullable=False),  # negative when restored
    Column("currency", String(3), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("consignment_id", "source", name="uq_quota_usage_consignment_source"),
)
Index("ix_quota_usage_person_year", quota_usage.c.person, quota_usage.c.year)

returns = Table(
    "returns",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("return_document", String(50), nullable=False, unique=True),
    Column("items", JSON, nullable=False),  # [{item, quantity}]
    Column("within_window", Boolean, nullable=False),
    Column("window_ends", Date),
    Column("goods_back_by", Date),
    Column("quota_restored", String(_AMOUNT)),
    Column("reason", Text),
    Column("filed_by", String(200), nullable=False),
    Column("filed_at", DateTime(timezone=True), nullable=False),
)
Index("ix_returns_consignment", returns.c.consignment_id)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("consignment_id", String(_ID), ForeignKey("consignments.id"), nullable=False),
    Column("return_id", String(_ID), ForeignKey("returns.id")),
    Column("account_id", String(_ID), ForeignKey("accounts.id")),
    Column("claimant", String(200), nullable=False),
    Column("items", JSON, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", String(_AMOUNT), nullable=False),
    Column("lines", JSON, nullable=False),  # [{item, kind, rate, amount}]
    Column("status", String(16), nullable=False),  # approved | refused
    Column("reasons", JSON, nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("period_id", String(_ID), ForeignKey("periods.id")),
)
Index("ix_refunds_consignment", refunds.c.consignment_id)
Index("ix_refunds_account", refunds.c.account_id, refunds.c.period_id)
