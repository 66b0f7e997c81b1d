"""web: risk-profile versions take effect after a second person's approval

Revision ID: 0005_profile_review
Revises: 0004_unmatched_legs
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_profile_review"
down_revision = "0004_unmatched_legs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions saved before reviews existed were in force already: they stay approved.
    op.add_column(
        "web_profile_versions",
        sa.Column("status", sa.String(length=16), nullable=False, server_default="approved"),
    )
    op.add_column("web_profile_versions", sa.Column("reviewed_by", sa.String(length=200)))
    op.add_column("web_profile_versions", sa.Column("reviewed_at", sa.DateTime(timezone=True)))
    op.add_column("web_profile_versions", sa.Column("review_note", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("web_profile_versions") as batch:
        for name in ("review_note", "reviewed_at", "reviewed_by", "status"):
            batch.drop_column(name)
