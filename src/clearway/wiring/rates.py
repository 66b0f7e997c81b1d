"""Exchange rates from the database (`clearway rates load`) merged over the shipped history."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from clearway.revenue.assessor import PackAssessor
from clearway.storage.engine import make_engine
from clearway.storage.fx_rates import stored_rates_since
from clearway.wiring.settings import Settings

STALE_AFTER_DAYS = 7  # the ECB publishes every TARGET day; a week without one is stale


def rate_source(engine: Engine) -> Callable[[], Iterable[tuple[date, str, Decimal]]]:
    """Every stored rate on the first call, then only rows loaded since the previous call (a
    missing rate asks again; with nothing new that is one small query)."""
    seen: list[datetime | None] = [None]

    def rows() -> Iterable[tuple[date, str, Decimal]]:
        try:
            found, seen[0] = stored_rates_since(engine, seen[0])
        except SQLAlchemyError:  # no database or not migrated yet: the shipped rates only
            return []
        return found

    return rows


def with_stored_rates(assessor: PackAssessor, engine: Engine, settings: Settings) -> PackAssessor:
    out = assessor.with_rates(rate_source(engine))
    out.horizon_days = settings.law_horizon_days
    return out


def assessor_with_rates(database: str | None = None) -> PackAssessor:
    """The shipped packs with the database's rates, for the CLI."""
    settings = Settings(database_url=database) if database else Settings()
    return with_stored_rates(
        PackAssessor.load_default(), make_engine(settings.database_url), settings
    )


def rates_health(assessor: object, today: date) -> tuple[str | None, str | None]:
    """(newest rate day, warning) for /healthz."""
    if not isinstance(assessor, PackAssessor):
        return None, None
    newest = assessor.fx.last_day
    age = (today - newest).days
    if age > STALE_AFTER_DAYS:
        return newest.isoformat(), (
            f"exchange rates end {age} days ago; quotes in other currencies fail and filings"
            " wait for assessment until `clearway rates load FILE` brings newer ones"
        )
    return newest.isoformat(), None
