"""`clearway audit`: check the tamper-evident record and export the daily digests.

- `verify [--since DATE]` recomputes every consignment's hash chain against the live tables and
  the stored digests; it prints the first broken link of each consignment and exits 1 if any.
- `digest [--day DATE]` stores the Merkle root over a day's chain heads (yesterday by default).
- `export --day DATE` prints a stored digest as JSON, to anchor somewhere outside the database.
- `rebuild [--dry-run]` rewrites the consignment rows (the projection the queues and search
  read) whose columns differ from their records.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

audit_app = typer.Typer(help="The tamper-evident record: verify, digest, export, rebuild.")
out = Console()
err = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL or SQLite)"),
]


def register(app: typer.Typer) -> None:
    """Add the `audit` command group to the main CLI."""
    app.add_typer(audit_app, name="audit")


def _engine(database: str | None) -> Engine:
    from clearway.storage.engine import make_engine
    from clearway.wiring.settings import Settings

    settings = Settings(database_url=database) if database else Settings()
    return make_engine(settings.database_url)


def _day(text: str | None, default: date) -> date:
    if text is None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD") from None


@audit_app.command("verify")
def verify(
    since: Annotated[
        str | None, typer.Option(help="Only chains with records on or after this day")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Recompute every chain; name the first broken link of each consignment."""
    from clearway.storage.record_view import verify as run

    report = run(_engine(database), _day(since, date.min) if since else None)
    for broken in report.breaks:
        out.print(f"BROKEN {broken}", markup=False, highlight=False)
    summary = (
        f"{report.consignments} consignments, {report.records} records checked; "
        f"{len(report.breaks)} broken"
    )
    if report.unchained:
        summary += f"; {report.unchained} consignments have no record yet"
    err.print(summary, markup=False)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("digest")
def digest(
    day: Annotated[str | None, typer.Option(help="The day (UTC), default yesterday")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Store the day's Merkle root over its chain heads (a stored day is never rewritten)."""
    from clearway.storage.audit import digest as run
    from clearway.storage.audit import stored_digest

    now = datetime.now(UTC)
    when = _day(day, now.date() - timedelta(days=1))
    engine = _engine(database)
    computed = run(engine, when, now)
    stored = stored_digest(engine, when)
    out.print(json.dumps(computed.export()), markup=False, highlight=False)
    if stored is not None and stored.root != computed.root:
        err.print(f"the stored digest of {when} differs: {stored.root}", markup=False)
        raise typer.Exit(1)


@audit_app.command("export")
def export(
    day: Annotated[str, typer.Option(help="The day (UTC) whose stored digest to print")],
    database: DatabaseOpt = None,
) -> None:
    """Print a stored digest as JSON, for anchoring outside the database."""
    from clearway.storage.audit import stored_digest

    found = stored_digest(_engine(database), _day(day, date.today()))
    if found is None:
        err.print(f"no digest stored for {day}; run `clearway audit digest --day {day}`")
        raise typer.Exit(1)
    out.print(json.dumps(found.export()), markup=False, highlight=False)


@audit_app.command("rebuild")
def rebuild(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list the rows that differ")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Rewrite consignment rows whose columns differ from their records (exit 1 if any row
    could not be rebuilt: its chain is itself unsound, or a writer moved it on meanwhile)."""
    from clearway.storage.record_view import rebuild as run

    found = run(_engine(database), dry_run=dry_run)
    for r in found:
        columns = ", ".join(r.columns)
        if r.done:
            word = "REBUILT"
        elif dry_run and not r.why_not:
            word = "DIFFERS"
        else:
            word = "LEFT"
        tail = f" ({r.why_not})" if r.why_not else ""
        out.print(f"{word} {r.consignment_id}: {columns}{tail}", markup=False, highlight=False)
    left = [r for r in found if r.why_not]
    err.print(
        f"{len(found)} rows differ from their records; "
        f"{sum(r.done for r in found)} rebuilt, {len(left)} left",
        markup=False,
    )
    if left:
        raise typer.Exit(1)
