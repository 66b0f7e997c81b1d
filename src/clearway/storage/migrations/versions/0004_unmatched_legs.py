"""security: legs held as unmatched for an officer

Revision ID: 0004_unmatched_legs
Revises: 0003_security
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_unmatched_legs"
down_revision = "0003_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unmatched_legs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filer_reference", sa.String(length=100), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.String(length=250), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_legs")),
        sa.UniqueConstraint(
            "operator_id", "filer_reference", "body_hash", name="uq_unmatched_legs_body"
        ),
    )
    op.create_index("ix_unmatched_legs_status", "unmatched_legs", ["status", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_unmatched_legs_status", table_name="unmatched_legs")
    op.drop_table("unmatched_legs")
