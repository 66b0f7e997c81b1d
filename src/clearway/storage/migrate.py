"""Schema migrations (Alembic), run programmatically: `clearway db upgrade`."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from clearway.storage.partitions import ensure_ahead


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("clearway.storage") / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database schema up to `revision` (default: every branch head, so capabilities
    can add their own migration branches); on PostgreSQL, make sure the event log has this
    month's and next month's partitions."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    ensure_ahead(engine, datetime.now(UTC).date())
