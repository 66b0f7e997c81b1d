"""Exchange rates loaded by `clearway rates load`: ECB-convention rows (units per 1 EUR).

The shipped history (`revenue/data/ecb_rates.csv`) stops at its publication date; later rates
live here and are merged over it when the assessor loads (`wiring`). Loading is idempotent: a row
already held with the same value is left alone, a different value replaces it and is counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    select,
)

from clearway.storage.engine import writer
from clearway.storage.tables import metadata

fx_rates = Table(
    "fx_rates",
    metadata,
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("rate", String(32), nullable=False),  # decimal text, units of currency per 1 EUR
    Column("source", String(200), nullable=False),  # the file it came from
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("day", "currency", name="pk_fx_rates"),
)


@dataclass(frozen=True, slots=True)
class LoadResult:
    read: int
    added: int
    changed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Coverage:
    currency: str
    first: date
    last: date
    days: int


def load_rates(
    engine: Engine, rows: Iterable[tuple[date, str, Decimal]], source: str, now: datetime
) -> LoadResult:
    """Upsert rows; the same file twice changes nothing the second time."""
    wanted: dict[tuple[date, str], Decimal] = {}
    for day, currency, rate in rows:
        wanted[(day, currency)] = rate
    added = changed = 0
    with writer(engine).begin() as conn:
        held = {
            (r.day, r.currency): Decimal(r.rate)
            for r in conn.execute(select(fx_rates.c.day, fx_rates.c.currency, fx_rates.c.rate))
        }
        new = []
        for key, rate in wanted.items():
            old = held.get(key)
            if old is None:
                new.append(
                    {
                        "day": key[0],
                        "currency": key[1],
                        "rate": format(rate, "f"),
                        "source": source[:200],
                        "loaded_at": now,
                    }
                )
                added += 1
            elif old != rate:
                conn.execute(
                    fx_rates.update()
                    .where(fx_rates.c.day == key[0], fx_rates.c.currency == key[1])
                    .values(rate=format(rate, "f"), source=source[:200], loaded_at=now)
                )
                changed += 1
        for start in range(0, len(new), 5000):
            conn.execute(fx_rates.insert(), new[start : start + 5000])
    return LoadResult(len(wanted), added, changed, len(wanted) - added - changed)


def stored_rates(engine: Engine) -> list[tuple[date, str, Decimal]]:
    return stored_rates_since(engine, None)[0]


def stored_rates_since(
    engine: Engine, loaded_after: datetime | None
) -> tuple[list[tuple[date, str, Decimal]], datetime | None]:
    """Rows loaded after `loaded_after` (all when None), and the newest load time among them."""
    query = select(fx_rates.c.day, fx_rates.c.currency, fx_rates.c.rate, fx_rates.c.loaded_at)
    if loaded_after is not None:
        query = query.where(fx_rates.c.loaded_at >= loaded_after)
    rows: list[tuple[date, str, Decimal]] = []
    newest = loaded_after
    with engine.connect() as conn:
        for r in conn.execute(query):
            rows.append((r.day, r.currency, Decimal(r.rate)))
            at = r.loaded_at if r.loaded_at.tzinfo else r.loaded_at.replace(tzinfo=UTC)
            if newest is None or at > newest:
                newest = at
    return rows, newest


def newest_rate_day(engine: Engine) -> date | None:
    with engine.connect() as conn:
        value = conn.execute(select(func.max(fx_rates.c.day))).scalar()
    return value if isinstance(value, date) else None
