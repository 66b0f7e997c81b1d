"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("name", name=op.f("uq_operators_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_api_keys_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "consignments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("transport_document", sa.String(length=50), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("payment_status", sa.String(length=16), nullable=False),
        sa.Column("data_set", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column("dispatch_country", sa.String(length=2), nullable=True),
        sa.Column("office", sa.String(length=32), nullable=True),
        sa.Column("legal_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("intrinsic_value", sa.String(length=32), nullable=False),
        sa.Column("lane", sa.String(length=8), nullable=True),
        sa.Column("referral", sa.String(length=32), nullable=True),
        sa.Column("score", sa.String(length=16), nullable=True),
        sa.Column("random_sample", sa.Boolean(), nullable=False),
        sa.Column("irg_category", sa.Integer(), nullable=True),
        sa.Column("collection_model", sa.String(length=16), nullable=True),
        sa.Column("assessed_currency", sa.String(length=3), nullable=True),
        sa.Column("assessed_total", sa.String(length=32), nullable=True),
        sa.Column("due_at_border", sa.String(length=32), nullable=True),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("payment_id", sa.String(length=100), nullable=True),
        sa.Column("consignee_key", sa.String(length=200), nullable=True),
        sa.Column("seller_key", sa.String(length=200), nullable=True),
        sa.Column("legs", sa.String(length=100), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["operators.id"], name=op.f("fk_consignments_owner_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consignments")),
        sa.UniqueConstraint("transport_document", name=op.f("uq_consignments_transport_document")),
    )
    with op.batch_alter_table("consignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consignments_consignee_day", ["consignee_key", "legal_date"], unique=False
        )
        batch_op.create_index("ix_consignments_order", ["order_id"], unique=False)
        batch_op.create_index("ix_consignments_owner", ["owner_id"], unique=False)
        batch_op.create_index("ix_consignments_payment", ["payment_id"], unique=False)
        batch_op.create_index("ix_consignments_status_lane", ["status", "lane"], unique=False)

    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_events_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_consignment", ["consignment_id", "id"], unique=False)
        batch_op.create_index("ix_events_kind_at", ["kind", "at"], unique=False)

    op.create_table(
        "filings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("filer_reference", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_filings_consignment_id_consignments"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_filings_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.UniqueConstraint(
            "operator_id", "filer_reference", "version", name="uq_filings_reference"
        ),
    )
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.create_index("ix_filings_consignment", ["consignment_id"], unique=False)
        batch_op.create_index(
            "ix_filings_operator_ref", ["operator_id", "filer_reference"], unique=False
        )

    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_holds_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index("ix_holds_consignment", ["consignment_id"], unique=False)

    op.create_table(
        "inspections",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("officer", sa.String(length=200), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("corrected_value", sa.String(length=32), nullable=True),
        sa.Column("corrected_hs_code", sa.String(length=10), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_inspections_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index("ix_inspections_consignment", ["consignment_id"], unique=False)

    op.create_table(
        "notices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_notices_consignment_id_consignments"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_notices_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index("ix_notices_operator_cursor", ["operator_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_operator_cursor")

    op.drop_table("notices")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_consignment")

    op.drop_table("inspections")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index("ix_holds_consignment")

    op.drop_table("holds")
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index("ix_filings_operator_ref")
        batch_op.drop_index("ix_filings_consignment")

    op.drop_table("filings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_kind_at")
        batch_op.drop_index("ix_events_consignment")

    op.drop_table("events")
    with op.batch_alter_table("consignments", schema=None) as batch_op:
        batch_op.drop_index("ix_consignments_status_lane")
        batch_op.drop_index("ix_consignments_payment")
        batch_op.drop_index("ix_consignments_owner")
        batch_op.drop_index("ix_consignments_order")
        batch_op.drop_index("ix_consignments_consignee_day")

    op.drop_table("consignments")
    op.drop_table("api_keys")
    op.drop_table("operators")
