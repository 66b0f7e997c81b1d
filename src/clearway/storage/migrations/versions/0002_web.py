"""web pages: users, sessions, Single Window routes, rule hits, profile versions, queue indexes

Revision ID: 0002_web
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_web"
down_revision = "0001"
branch_labels = None
depends_on = None

_OPEN = sa.text("lifted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_web_users_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_users")),
        sa.UniqueConstraint("username", name=op.f("uq_web_users_username")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_web_sessions_operator_id_operators")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index("ix_web_sessions_expires", "web_sessions", ["expires_at"])
    op.create_table(
        "web_routes",
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_web_routes_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("consignment_id", "agency", name="pk_web_routes"),
    )
    op.create_index("ix_web_routes_agency", "web_routes", ["agency", "consignment_id"])
    op.create_table(
        "web_rule_hits",
        sa.Column("consignment_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name=op.f("fk_web_rule_hits_consignment_id_consignments"),
        ),
        sa.PrimaryKeyConstraint("consignment_id", "profile_id", name="pk_web_rule_hits"),
    )
    op.create_index("ix_web_rule_hits_profile", "web_rule_hits", ["profile_id"])
    op.create_table(
        "web_sweeps",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_web_sweeps")),
    )
    op.execute("INSERT INTO web_sweeps (name, watermark) VALUES ('index', NULL)")
    op.create_table(
        "web_profile_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.String(length=16), nullable=False),
        sa.Column("lane", sa.String(length=8), nullable=True),
        sa.Column("referral", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(length=200), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_profile_versions")),
        sa.UniqueConstraint("profile_id", "version", name="uq_web_profile_versions_version"),
    )
    op.create_index("ix_consignments_status_arrived", "consignments", ["status", "arrived_at"])
    op.create_index(
        "ix_consignments_status_lane_arrived", "consignments", ["status", "lane", "arrived_at"]
    )
    op.create_index(
        "ix_consignments_status_office_arrived",
        "consignments",
        ["status", "office", "arrived_at"],
    )
    op.create_index("ix_consignments_updated_at", "consignments", ["updated_at"])
    op.create_index(
        "ix_holds_open_reason",
        "holds",
        ["reason", "consignment_id"],
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index(
        "ix_holds_open_authority",
        "holds",
        ["authority", "consignment_id"],
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )


def downgrade() -> None:
    for name, table in (
        ("ix_holds_open_authority", "holds"),
        ("ix_holds_open_reason", "holds"),
        ("ix_consignments_updated_at", "consignments"),
        ("ix_consignments_status_office_arrived", "consignments"),
        ("ix_consignments_status_lane_arrived", "consignments"),
        ("ix_consignments_status_arrived", "consignments"),
    ):
        op.drop_index(name, table_name=table)
    for table in (
        "web_profile_versions",
        "web_sweeps",
        "web_rule_hits",
        "web_routes",
        "web_sessions",
        "web_users",
    ):
        op.drop_table(table)
