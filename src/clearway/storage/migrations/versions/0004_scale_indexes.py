"""scale: drop an index that repeated the prefix of a unique constraint

`ix_filings_operator_ref (operator_id, filer_reference)` is the leading part of
`uq_filings_reference (operator_id, filer_reference, version)`, whose index already serves every
look-up by filer reference; every filing insert paid for both. See docs/scale.md.

Revision ID: 0004_scale_indexes
Revises: 0003_queue
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004_scale_indexes"
down_revision = "0003_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_index("ix_filings_operator_ref")


def downgrade() -> None:
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_filings_operator_ref", ["operator_id", "filer_reference"], unique=False
        )
