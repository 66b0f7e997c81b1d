"""accounts, collection and returns

Revision ID: 0002_accounts
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_accounts"
down_revision = "0001"
branch_labels = ("accounts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("guarantee", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_accounts_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("operator_id", "currency", name="uq_accounts_operator_currency"),
    )
    op.create_table(
        "periods",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.String(length=32), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_periods_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periods")),
        sa.UniqueConstraint("account_id", "period", name="uq_periods_account_period"),
    )
    op.create_table(
        "quota_usage",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=48), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_quota_usage_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_usage")),
        sa.UniqueConstraint("consignment_id", "source", name="uq_quota_usage_consignment_source"),
    )
    op.create_index("ix_quota_usage_person_year", "quota_usage", ["person", "year"], unique=False)
    op.create_table(
        "registrations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("aeo", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_registrations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_registrations_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("number", name=op.f("uq_registrations_number")),
    )
    op.create_index("ix_registrations_operator", "registrations", ["operator_id"], unique=False)
    op.create_table(
        "returns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("return_document", sa.String(length=50), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("within_window", sa.Boolean(), nullable=False),
        sa.Column("window_ends", sa.Date(), nullable=True),
        sa.Column("goods_back_by", sa.Date(), nullable=True),
        sa.Column("quota_restored", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_returns_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("return_document", name=op.f("uq_returns_return_document")),
    )
    op.create_index("ix_returns_consignment", "returns", ["consignment_id"], unique=False)
    op.create_table(
        "account_payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("period_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_payments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_account_payments_period_id_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_payments")),
        sa.UniqueConstraint("period_id", name="uq_account_payments_period_id"),
    )
    op.create_table(
        "declaration_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("period_id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("transport_document", sa.String(length=50), nullable=False),
        sa.Column("registration_number", sa.String(length=40), nullable=True),
        sa.Column("item", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("rate", sa.String(length=80), nullable=True),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_declaration_lines_consignment_id_consignments"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_declaration_lines_period_id_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_lines")),
    )
    op.create_index("ix_declaration_lines_period", "declaration_lines", ["period_id"], unique=False)
    op.create_table(
        "liabilities",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("registration_number", sa.String(length=40), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_id", sa.String(length=40), nullable=True),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_liabilities_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_liabilities_consignment_id_consignments"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_liabilities_period_id_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liabilities")),
        sa.UniqueConstraint("consignment_id", name="uq_liabilities_consignment_id"),
    )
    op.create_index(
        "ix_liabilities_account_paid", "liabilities", ["account_id", "paid"], unique=False
    )
    op.create_index(
        "ix_liabilities_account_period", "liabilities", ["account_id", "period"], unique=False
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=True),
        sa.Column("account_id", sa.String(length=40), nullable=True),
        sa.Column("claimant", sa.String(length=200), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_refunds_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_refunds_consignment_id_consignments"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_refunds_period_id_periods")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_refunds_return_id_returns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index("ix_refunds_account", "refunds", ["account_id", "period_id"], unique=False)
    op.create_index("ix_refunds_consignment", "refunds", ["consignment_id"], unique=False)
    op.create_table(
        "report_uploads",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("period_id", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("reported_total", sa.String(length=32), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["periods.id"], name=op.f("fk_report_uploads_period_id_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_uploads")),
    )
    op.create_index("ix_report_uploads_period", "report_uploads", ["period_id"], unique=False)
    op.create_table(
        "report_differences",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("upload_id", sa.String(length=40), nullable=False),
        sa.Column("transport_document", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("recorded", sa.String(length=32), nullable=True),
        sa.Column("reported", sa.String(length=32), nullable=True),
        sa.Column("difference", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["report_uploads.id"],
            name=op.f("fk_report_differences_upload_id_report_uploads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_differences")),
    )
    op.create_index(
        "ix_report_differences_upload", "report_differences", ["upload_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_report_differences_upload", table_name="report_differences")
    op.drop_table("report_differences")
    op.drop_index("ix_report_uploads_period", table_name="report_uploads")
    op.drop_table("report_uploads")
    op.drop_index("ix_refunds_consignment", table_name="refunds")
    op.drop_index("ix_refunds_account", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_liabilities_account_period", table_name="liabilities")
    op.drop_index("ix_liabilities_account_paid", table_name="liabilities")
    op.drop_table("liabilities")
    op.drop_index("ix_declaration_lines_period", table_name="declaration_lines")
    op.drop_table("declaration_lines")
    op.drop_table("account_payments")
    op.drop_index("ix_returns_consignment", table_name="returns")
    op.drop_table("returns")
    op.drop_index("ix_registrations_operator", table_name="registrations")
    op.drop_table("registrations")
    op.drop_index("ix_quota_usage_person_year", table_name="quota_usage")
    op.drop_table("quota_usage")
    op.drop_table("periods")
    op.drop_table("accounts")
