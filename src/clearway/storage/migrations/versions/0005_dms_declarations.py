"""dms: declarations by MRN

Revision ID: 0005_dms_declarations
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dms_declarations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dms_declarations",
        sa.Column("mrn", sa.String(length=18), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("lrn", sa.String(length=100), nullable=False),
        sa.Column("procedure_category", sa.String(length=4), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_dms_declarations_consignment_id_consignments"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_dms_declarations_operator_id_operators"),
        ),
        sa.PrimaryKeyConstraint("mrn", name=op.f("pk_dms_declarations")),
        sa.UniqueConstraint("operator_id", "lrn", name="uq_dms_declarations_lrn"),
    )
    op.create_index(
        "ix_dms_declarations_consignment", "dms_declarations", ["consignment_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_dms_declarations_consignment", table_name="dms_declarations")
    op.drop_table("dms_declarations")
