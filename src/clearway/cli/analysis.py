"""`clearway export | stats | whatif | report`: measurement and analysis from the command line.

The statistics read a Parquet snapshot (`export` writes one from the database); `report` exports
first unless given `--snapshot`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clearway.kernel.errors import ClearwayError
from clearway.statistics import timerelease
from clearway.statistics.figures import DuckStatistics, core, jsonable
from clearway.statistics.measures import DIMENSIONS
from clearway.statistics.report import fmt, write_report
from clearway.statistics.snapshot import Period, Snapshot, parse_period
from clearway.statistics.whatif import load_study, revenue_delta, run_study

console = Console()
err = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL or SQLite)"),
]
SnapshotOpt = Annotated[
    Path, typer.Option("--snapshot", help="Snapshot folder written by `clearway export`")
]
PeriodOpt = Annotated[
    str | None,
    typer.Option(help="YYYY-MM-DD, YYYY-MM or FROM..TO (default: everything in the snapshot)"),
]
DEFAULT_SNAPSHOT = Path("var/snapshot")


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("stats")(stats_cmd)
    app.command("whatif")(whatif_cmd)
    app.command("report")(report_cmd)


@contextmanager
def _problems() -> Iterator[None]:
    """Known errors end the command with their message and exit code 2, never a traceback."""
    try:
        yield
    except ClearwayError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    except OSError as exc:  # unreadable files, unreachable Dask scheduler
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _engine(database: str | None) -> Any:
    from clearway.storage.engine import make_engine
    from clearway.wiring.settings import Settings

    settings = Settings(database_url=database) if database else Settings()
    return make_engine(settings.database_url)


def export_cmd(
    out: Annotated[Path, typer.Option("--out", help="Snapshot folder (created or replaced)")],
    since: Annotated[str | None, typer.Option(help="First legal date, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="Last legal date, YYYY-MM-DD")] = None,
    currency: Annotated[str, typer.Option(help="Reporting currency")] = "EUR",
    database: DatabaseOpt = None,
) -> None:
    """Export consignments, items, events, holds and documents to Parquet, by legal date."""
    from clearway.storage.export import export

    with _problems():
        period = parse_period(f"{since or ''}..{until or ''}" if since or until else None)
        result = export(
            _engine(database), out, period.since, period.until, reporting_currency=currency
        )
    rows = ", ".join(f"{n} {t}" for t, n in result.rows.items())
    err.print(f"{out}: {len(result.days)} days, {rows} ({result.seconds:.1f} s)")


def stats_cmd(
    snapshot: SnapshotOpt = DEFAULT_SNAPSHOT,
    period: PeriodOpt = None,
    dimension: Annotated[
        list[str] | None,
        typer.Option(help=f"Breakdowns to show (repeat): {', '.join(DIMENSIONS)}"),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://host:8786), or `local` for a local "
            "cluster; default: DuckDB in this process"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """E-commerce statistics, risk outcomes and time release of a snapshot."""
    dims = tuple(dimension or ("destination_country", "collection_model", "value_band", "lane"))
    with _problems():
        for d in dims:
            if d not in DIMENSIONS:
                raise ClearwayError(f"unknown dimension {d!r}; dimensions: {', '.join(DIMENSIONS)}")
        chosen = parse_period(period)
        if scheduler:
            figures = _on_dask(snapshot, chosen, scheduler, dims)
        else:
            with Snapshot(snapshot, chosen) as snap:
                figures = core(DuckStatistics(snap), dims)
    if as_json:
        print(json.dumps(jsonable(figures), indent=1))
        return
    for dim, rows in figures["breakdowns"].items():
        _table(f"by {dim}", rows, ["key", "parcels", "items", "value", "revenue"])
    _table(
        "revenue",
        figures["revenue"],
        ["currency", "collection_model", "parcels", "duty", "vat", "fees", "total"],
    )
    _table(
        "hit rates",
        figures["hit_rates"],
        ["group", "key", "inspected", "found", "hit_rate", "ci_low", "ci_high"],
    )
    for by in timerelease.GROUPS:
        _table(
            f"release by {by}",
            figures["release_shares"][by],
            [
                "key",
                "parcels",
                "arrived",
                "share_decided_before_arrival",
                "share_released_at_arrival",
            ],
        )


def _on_dask(snapshot: Path, period: Period, scheduler: str, dims: tuple[str, ...]) -> Any:
    import distributed

    from clearway.statistics.distributed import DaskStatistics

    dist: Any = distributed  # partly typed: used as Any

    def run(client: Any) -> Any:
        stats = DaskStatistics(snapshot, client, period)
        try:
            return core(stats, dims)
        finally:
            stats.close()

    if scheduler == "local":
        with (
            dist.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
            ) as cluster,
            dist.Client(cluster) as client,
        ):
            return run(client)
    with dist.Client(scheduler, timeout=15) as client:
        return run(client)


def _table(title: str, rows: list[dict[str, Any]], cols: list[str]) -> None:
    t = Table(title=title)
    for c in cols:
        t.add_column(c.replace("_", " "), justify="left" if c in ("key", "group") else "right")
    for r in rows[:25]:
        t.add_row(*(_cell(r.get(c)) for c in cols))
    console.print(t)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return fmt(v)


def whatif_cmd(
    overrides: Annotated[Path, typer.Option("--overrides", help="Study file (YAML scenarios)")],
    snapshot: SnapshotOpt = DEFAULT_SNAPSHOT,
    period: PeriodOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report with the what-if here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Re-assess the period's parcels under each scenario of a study (de minimis what-if)."""
    with _problems():
        study = load_study(overrides)
        chosen = parse_period(period)
        with Snapshot(snapshot, chosen) as snap:
            results = run_study(snap, study)
        if out is not None:
            index = write_report(snapshot, out, chosen, study)
            err.print(f"report: {index}")
    if as_json:
        print(json.dumps(jsonable([r.as_dict() for r in results]), indent=1))
        return
    base = results[0]
    money = Table(title=f"what-if: {study.title} — revenue")
    for col in ("scenario", "currency", "duty", "tax", "fees", "total", "Δ total"):
        money.add_column(col, justify="left" if col in ("scenario", "currency") else "right")
    for r in results:
        delta = revenue_delta(r, base)
        for cur, a in r.revenue.items():
            money.add_row(
                r.name,
                cur,
                fmt(a["duty"]),
                fmt(a["tax"]),
                fmt(a["fees"]),
                fmt(a["total"]),
                fmt(delta.get(cur)),
            )
    console.print(money)
    work = Table(title="parcels and workload")
    for col in (
        "scenario",
        "dutiable",
        "taxable",
        "+dutiable",
        "+taxable",
        "declarations",
        "border payments",
        "delivery collections",
        "periodic returns",
        f"cost {study.costs.currency}",
        "per parcel",
    ):
        work.add_column(col, justify="left" if col == "scenario" else "right")
    for r in results:
        w = r.workload
        work.add_row(
            r.name,
            str(r.dutiable),
            str(r.taxable),
            str(r.became_dutiable),
            str(r.became_taxable),
            str(w["declarations"]),
            str(w["border_payments"]),
            str(w["delivery_collections"]),
            str(w["periodic_returns"]),
            fmt(r.collection_cost),
            fmt(r.cost_per_parcel),
        )
    console.print(work)


def report_cmd(
    out: Annotated[Path, typer.Option("--out", help="Report folder (index.html, charts)")],
    period: PeriodOpt = None,
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="Use this snapshot instead of exporting the database"),
    ] = None,
    overrides: Annotated[
        Path | None, typer.Option("--overrides", help="Add a de minimis what-if study")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Write the HTML report (charts as local files) for a period; default: everything stored."""
    with _problems():
        chosen = parse_period(period)
        study = load_study(overrides) if overrides else None
        if snapshot is None:
            from clearway.storage.export import export

            snapshot = out / "snapshot"
            export(_engine(database), snapshot, chosen.since, chosen.until)
        index = write_report(snapshot, out, chosen, study)
    err.print(f"report: {index}")
