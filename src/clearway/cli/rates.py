"""`clearway rates load FILE` and `clearway rates status`: the rates customs converts at."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clearway.revenue.fx_files import RatesFileError, read_rates
from clearway.storage.engine import make_engine
from clearway.storage.fx_rates import load_rates
from clearway.storage.migrate import upgrade
from clearway.wiring.rates import STALE_AFTER_DAYS, assessor_with_rates
from clearway.wiring.settings import Settings

app = typer.Typer(help="Exchange rates (ECB reference rates) for customs value and tax.")
out = Console()
err = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL or SQLite)"),
]


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="rates")


@app.command("load")
def load(
    file: Annotated[
        Path, typer.Argument(help="ECB eurofxref CSV or XML, or date,currency,rate CSV")
    ],
    database: DatabaseOpt = None,
) -> None:
    """Load a rates file into the database; loading the same file again changes nothing."""
    try:
        rows = read_rates(file.read_text(encoding="utf-8"))
    except OSError as exc:
        err.print(f"error: cannot read {file}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    except (RatesFileError, UnicodeDecodeError) as exc:
        err.print(f"error: {file}: {exc}")
        raise typer.Exit(2) from None
    settings = Settings(database_url=database) if database else Settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    result = load_rates(engine, rows, file.name, datetime.now(UTC))
    days = sorted({d for d, _, _ in rows})
    span = f"{days[0]} … {days[-1]}" if days else "no dates"
    typer.echo(
        f"{file.name}: {result.read} rates ({span}); {result.added} added, {result.changed}"
        f" changed, {result.unchanged} already held"
    )


@app.command("status")
def status(database: DatabaseOpt = None) -> None:
    """The newest rate per currency (shipped history and loaded rates together)."""
    assessor = assessor_with_rates(database)
    fx = assessor.fx
    today = datetime.now(UTC).date()
    table = Table(title=f"exchange rates per EUR, {fx.first_day} … {fx.last_day}")
    for column in ("currency", "newest", "age (days)", "state"):
        table.add_column(column)
    stale = 0
    for currency in sorted(fx.currencies() - {"EUR"}):
        last = fx.last_publication(currency)
        age = (today - last).days if last else None
        state = "ok" if age is not None and age <= STALE_AFTER_DAYS else "stale"
        stale += state == "stale"
        table.add_row(currency, str(last or "-"), str(age if age is not None else "-"), state)
    out.print(table)
    if stale:
        typer.echo(
            f"{stale} currencies have no rate in the last {STALE_AFTER_DAYS} days: quotes that need"
            " them are refused and filings wait for assessment. Load newer rates with"
            " `clearway rates load FILE`."
        )
