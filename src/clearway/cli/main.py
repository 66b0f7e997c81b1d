"""The `clearway` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from clearway.clearance.intake import read_content
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.cli import accounts as accounts_cmd
from clearway.cli import analysis as analysis_cmd
from clearway.cli import audit as audit_cmd
from clearway.cli import demo as demo_cmd
from clearway.cli import hs as hs_cmd
from clearway.cli import queue as queue_cmd
from clearway.cli import quote as quote_cmd
from clearway.cli import rates as rates_cmd
from clearway.cli import risk as risk_cmd
from clearway.cli import users as users_cmd
from clearway.cli.reading import files_under
from clearway.domain.filing import FILING_ROLES
from clearway.ingestion.detect import detect, parse
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import InvalidInput, Problem
from clearway.simulation.cn import CnReturn
from clearway.wiring.settings import Settings

app = typer.Typer(
    help="Clearway: customs clearance engine for cross-border e-commerce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys for operators.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(risk_cmd.app, name="risk")
quote_cmd.register(app)
rates_cmd.register(app)
demo_cmd.register(app)
accounts_cmd.register(app)
analysis_cmd.register(app)
users_cmd.register(app)
audit_cmd.register(app)
queue_cmd.register(app)
hs_cmd.register(app)
err = Console(stderr=True)
_ENC = msgspec.json.Encoder(decimal_format="string")

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL or SQLite)"),
]


def _settings(database: str | None) -> Settings:
    return Settings(database_url=database) if database else Settings()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    database: DatabaseOpt = None,
) -> None:
    """Run the HTTP API (docs at /docs): the pipeline in process, or (CLEARWAY_RUNTIME=queued)
    filings stored for workers with an outbox relay thread."""
    import uvicorn

    from clearway.api.app import create_app
    from clearway.wiring.runtime import settle
    from clearway.wiring.services import build

    services = build(_settings(database))
    err.print(
        f"Clearway on http://{host}:{port} (API docs: /docs) — {services.settings.database_url}"
        f" ({services.settings.queue.runtime} runtime)"
    )
    api = create_app(services)
    settle()
    metrics_at = services.settings.security.metrics_address
    if metrics_at:  # metrics on their own (internal) address, not on the API's
        from prometheus_client import start_http_server

        m_host, _, m_port = metrics_at.rpartition(":")
        start_http_server(int(m_port), m_host or "127.0.0.1", api.state.metrics_registry)
        err.print(f"metrics on http://{m_host or '127.0.0.1'}:{m_port}/metrics")
    # proxy headers are read by the app itself, from configured proxies only (api/guard.py)
    uvicorn.run(api, host=host, port=port, log_level="info", proxy_headers=False)


def result_json(r: FilingResult) -> dict[str, object]:
    out: dict[str, object] = msgspec.to_builtins(
        {
            "index": r.index,
            "outcome": r.outcome,
            "filer_reference": r.filer_reference,
            "consignment_id": r.consignment_id,
            "status": r.status,
            "lane": r.decision.lane if r.decision else None,
            "referral": r.decision.referral if r.decision else None,
            "problems": [
                {"path": p.path, "code": p.code, "message": p.message, "severity": p.severity}
                for p in r.problems
            ],
        }
    )
    return out


@app.command("file")
def file_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or folders: canonical JSON / JSON Lines, EU H7 XML, CEB XML, CSV"
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="json, jsonl, h7, ceb or csv (default: detected per file)"),
    ] = None,
    operator: Annotated[str, typer.Option(help="Filing operator's name")] = "cli",
    role: Annotated[str, typer.Option(help=f"Filer role: {', '.join(FILING_ROLES)}")] = "platform",
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    database: DatabaseOpt = None,
) -> None:
    """File canonical filings; a result per filing; continues past bad ones. EU DMS
    declarations are lodged with their MRNs (`mrn` in `--json`)."""
    from clearway.clearance import dms
    from clearway.storage.dms_register import SqlDeclarationRegister
    from clearway.wiring.runtime import settle
    from clearway.wiring.services import build

    if role not in FILING_ROLES:
        err.print(f"[red]--role must be one of {', '.join(FILING_ROLES)}[/red]")
        raise typer.Exit(2)
    subs: list[Submission] = []
    dms_records: list[ParsedRecord] = []  # EU DMS declarations: lodged with their MRNs
    for path in paths:
        if not path.exists():
            err.print(f"[red]{path}: no such file or folder[/red]")
            raise typer.Exit(2)
        for one in files_under(path):
            try:
                content = one.read_bytes()
                if (fmt or detect(content)) == "h7":
                    dms_records.extend(parse(content, "h7").records)
                    continue
                _, found = read_content(content, fmt)
            except InvalidInput as exc:
                why = "; ".join(p.message for p in exc.problems) or exc.detail
                err.print(f"[red]{one}: {why}[/red]")
                found = [Submission(None, exc.problems or [Problem("/", "format", exc.detail)])]
            subs.extend(found)
    services = build(_settings(database))
    settle()
    filer = Filer(services.operators.ensure(operator, role), operator, role)
    results: list[FilingResult] = []
    mrns: dict[int, str] = {}
    with Progress(
        TextColumn("filing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("filing", total=len(subs) + len(dms_records))
        for start in range(0, len(subs), batch_size):
            chunk = subs[start : start + batch_size]
            for r in services.pipeline.process(filer, chunk):
                r.index += start
                results.append(r)
            bar.advance(task, len(chunk))
        register = SqlDeclarationRegister(services.engine)
        for start in range(0, len(dms_records), batch_size):
            records = dms_records[start : start + batch_size]
            for x in dms.lodge(services.pipeline, register, filer, records):
                x.result.index += len(subs) + start
                results.append(x.result)
                if x.mrn:
                    mrns[x.result.index] = x.mrn
            bar.advance(task, len(records))
    accepted = sum(1 for r in results if r.accepted)
    if as_json:
        sys.stdout.buffer.write(
            _ENC.encode(
                {
                    "accepted": accepted,
                    "rejected": len(results) - accepted,
                    "results": [
                        result_json(r) | ({"mrn": mrns[r.index]} if r.index in mrns else {})
                        for r in results
                    ],
                }
            )
        )
        sys.stdout.write("\n")
    else:
        for r in results:
            if not r.accepted:
                first = r.problems[0] if r.problems else None
                why = f"{first.path or '/'}: {first.message}" if first else r.outcome
                err.print(f"#{r.index} {r.filer_reference or ''} {r.outcome}: {why}")
        err.print(f"accepted {accepted}, rejected {len(results) - accepted}")
    services.close()
    if accepted == 0 and results:
        raise typer.Exit(1)


@app.command()
def generate(
    parcels: Annotated[int, typer.Option(min=1, help="How many parcels")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same traffic)")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="JSON Lines file (json) or folder (mixed); default: stdout"),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="json: canonical JSON Lines; mixed: every party's messages as files "
            "(JSON, EU H7 XML, CEB XML legs, CSV) in the OUT folder",
        ),
    ] = "json",
    truth: Annotated[
        Path | None, typer.Option(help="Ground-truth file (default: beside OUT)")
    ] = None,
) -> None:
    """Generate realistic synthetic traffic with planted violations and their ground truth."""
    from clearway.simulation.channels import messages
    from clearway.simulation.generator import TrafficGenerator

    if fmt not in ("json", "mixed"):
        err.print("[red]--format must be json or mixed[/red]")
        raise typer.Exit(2)
    if fmt == "mixed" and out is None:
        err.print("[red]--format mixed writes a folder of message files: give --out DIR[/red]")
        raise typer.Exit(2)
    day = list(TrafficGenerator(seed).parcels(parcels))
    if out is not None and fmt == "mixed":
        out.mkdir(parents=True, exist_ok=True)
        suffix = {"json": "json", "h7": "xml", "ceb": "xml", "csv": "csv"}
        returns: list[CnReturn] = []
        for n, m in enumerate(messages(day, seed, returns)):
            (
                out / f"{n:07d}-{_slug(m.operator)}-{m.role}-{m.format}.{suffix[m.format]}"
            ).write_bytes(m.content)
        if returns:
            later = _after_release(out, returns)
            err.print(f"China returns (file after release): {later}")
        truth_path: Path | None = truth or out.with_name(out.name + ".truth.jsonl")
    else:
        sink = out.open("wb") if out else sys.stdout.buffer
        try:
            for p in day:
                for f in p.filings:
                    sink.write(msgspec.json.encode(f) + b"\n")
        finally:
            if out:
                sink.close()
        truth_path = truth or (out.with_suffix(".truth.jsonl") if out else None)
    if truth_path:
        truth_path.write_bytes(b"".join(msgspec.json.encode(p.truth) + b"\n" for p in day))
        err.print(f"ground truth: {truth_path}")


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name).strip("-").lower()


def _after_release(out: Path, returns: list[CnReturn]) -> Path:
    """The China returns beside OUT (not in it: they are filed once the parcels are released):
    each declarant's CEB625, then each logistics company's CEB711 listing the goods back. The
    CEB625 quotes an inventory number of the CEB622's form derived from the parcel's reference;
    the gateway finds the parcel by its waybill number (logisticsNo)."""
    from clearway.ingestion.ceb.numbers import inventory_number
    from clearway.simulation.cn import CUSTOMS_CODE, warehouse_entry

    folder = out.with_name(out.name + ".after-release")
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for r in returns:
        year = r.doc.legal_date.year if r.doc.legal_date else 2026
        invt_no = inventory_number(CUSTOMS_CODE, year, r.doc.filer_reference)
        n += 1
        name = f"{n:07d}-{_slug(r.platform)}-platform-ceb.xml"
        (folder / name).write_bytes(r.request(invt_no))
    by_carrier: dict[str, list[CnReturn]] = {}
    for r in returns:
        by_carrier.setdefault(r.carrier, []).append(r)
    for i, (carrier, back) in enumerate(sorted(by_carrier.items()), start=1):
        n += 1
        entry = warehouse_entry(back, reference=f"RK{i:08d}")
        (folder / f"{n:07d}-{_slug(carrier)}-carrier-ceb.xml").write_bytes(entry)
    return folder


@keys_app.command("create")
def keys_create(
    operator: Annotated[str, typer.Option(help="Operator name (created if new)")],
    role: Annotated[
        str,
        typer.Option(
            help="platform, carrier, post, broker, payment_provider, "
            "agency, officer, analyst or admin"
        ),
    ],
    grant: Annotated[
        list[str] | None,
        typer.Option(help="Extra right: `consignments` lets an analyst read parcels"),
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Create an API key and print it (it is stored hashed and shown only once)."""
    from clearway.domain.filing import FILER_ROLES
    from clearway.storage.engine import make_engine
    from clearway.storage.migrate import upgrade
    from clearway.storage.repository import Operators

    if role not in FILER_ROLES:
        err.print(f"[red]--role must be one of {', '.join(FILER_ROLES)}[/red]")
        raise typer.Exit(2)
    engine = make_engine(_settings(database).database_url)
    upgrade(engine)
    try:
        print(Operators(engine).create_key(operator, role, grant or ()))
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix: the part after `cw_`")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke an API key (servers stop accepting it within 30 seconds)."""
    from clearway.kernel.errors import NotFound
    from clearway.storage.engine import make_engine
    from clearway.storage.repository import Operators

    try:
        Operators(make_engine(_settings(database).database_url)).revoke(prefix)
    except NotFound as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    err.print(f"revoked key {prefix}")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "heads",
    database: DatabaseOpt = None,
) -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    from clearway.storage.engine import make_engine
    from clearway.storage.migrate import upgrade

    url = _settings(database).database_url
    upgrade(make_engine(url), revision)
    err.print(f"schema at {revision}: {url}")


@db_app.command("partitions")
def db_partitions(
    ahead: Annotated[int, typer.Option(min=0, help="Months to create beyond this one")] = 3,
    database: DatabaseOpt = None,
) -> None:
    """Create the event log's monthly partitions ahead (PostgreSQL; run daily, idempotent)."""
    from datetime import UTC, datetime

    from clearway.storage.engine import make_engine
    from clearway.storage.partitions import ensure_ahead

    engine = make_engine(_settings(database).database_url)
    report = ensure_ahead(engine, datetime.now(UTC).date(), ahead)
    engine.dispose()
    if report is None:
        err.print("the event log is not partitioned here (SQLite, or run `clearway db upgrade`)")
        return
    for name in report.created:
        print(f"created {name}")
    for name in report.existing:
        print(f"exists  {name}")
    for name, rows in report.held:
        print(f"held    {name}: {rows} events of that month sit in the default partition")


agencies_app = typer.Typer(help="Single Window agencies.", no_args_is_help=True)
app.add_typer(agencies_app, name="agencies")


@agencies_app.command("sweep")
def agencies_sweep(database: DatabaseOpt = None) -> None:
    """Lift arrival holds agencies left unanswered past their `timeout_hours`."""
    from clearway.wiring.services import build

    services = build(_settings(database))
    touched = services.clearance.lapse_agency_waits()
    err.print(f"{len(touched)} parcels no longer wait for an agency past its time-out")
    services.close()


match_app = typer.Typer(help="Multi-source record matching.", no_args_is_help=True)
app.add_typer(match_app, name="match")


@match_app.command("sweep")
def match_sweep(database: DatabaseOpt = None) -> None:
    """Flag parcels whose required record legs are still missing after the waiting time."""
    from datetime import timedelta

    from clearway.matching.rules import destinations_requiring_legs
    from clearway.wiring.services import build

    services = build(_settings(database))
    now = services.clock.now()
    destinations = destinations_requiring_legs(now.date())
    # the shortest wait is one hour: anything younger cannot be overdue anywhere
    candidates = services.store.awaiting_legs(destinations, now - timedelta(hours=1))
    flagged = services.clearance.flag_overdue_legs(candidates)
    err.print(f"checked {len(candidates)} parcels awaiting record legs, flagged {len(flagged)}")
    services.close()


def main() -> None:
    """Console entry point: failures become a message saying what to do, not a traceback.

    Set CLEARWAY_DEBUG=1 to see the traceback of an unexpected error.
    """
    import os

    from sqlalchemy.exc import SQLAlchemyError

    from clearway.kernel.errors import ClearwayError

    try:
        app()
    except ClearwayError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        for p in exc.problems:
            err.print(f"  {p.path}: {p.message}")
        sys.exit(2)
    except SQLAlchemyError as exc:
        if os.environ.get("CLEARWAY_DEBUG"):
            raise
        reason = getattr(exc, "orig", None) or exc
        err.print(
            f"[red]database error:[/red] {reason}\n"
            "Check --database / CLEARWAY_DATABASE_URL, and bring the schema up to date with "
            "`clearway db upgrade`."
        )
        sys.exit(2)
    except (OSError, ValueError, ArithmeticError) as exc:
        if os.environ.get("CLEARWAY_DEBUG"):
            raise
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    except Exception as exc:  # the last net: a one-line message, the traceback on request
        if os.environ.get("CLEARWAY_DEBUG"):
            raise
        err.print(
            f"[red]unexpected error:[/red] {type(exc).__name__}: {exc}\n"
            "Set CLEARWAY_DEBUG=1 to see the traceback, and please report it."
        )
        sys.exit(1)
