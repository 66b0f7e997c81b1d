"""revenue: exchange rates loaded with `clearway rates load`

Revision ID: 0005_fx_rates
Revises: 0004_unmatched_legs
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_fx_rates"
down_revision = "0004_unmatched_legs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name="pk_fx_rates"),
    )


def downgrade() -> None:
    op.drop_table("fx_rates")
