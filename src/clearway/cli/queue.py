"""The queued runtime's commands: `clearway relay`, `clearway worker`, `clearway queue status`."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from clearway.wiring.settings import Settings

queue_app = typer.Typer(help="The queued runtime's queue (NATS JetStream).", no_args_is_help=True)
err = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL)"),
]
MetricsOpt = Annotated[
    int | None,
    typer.Option("--metrics-port", help="Serve Prometheus metrics on this port (default: none)"),
]


def register(app: typer.Typer) -> None:
    app.command("relay")(relay)
    app.command("worker")(worker)
    app.add_typer(queue_app, name="queue")


def _settings(database: str | None) -> Settings:
    settings = Settings(database_url=database) if database else Settings()
    if not settings.queue.queued:
        err.print(
            "[red]this command belongs to the queued runtime: set CLEARWAY_RUNTIME=queued "
            "(with CLEARWAY_DATABASE_URL=postgresql://… and CLEARWAY_NATS_URL)[/red]"
        )
        raise typer.Exit(2)
    return settings


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )


def relay(database: DatabaseOpt = None, metrics_port: MetricsOpt = None) -> None:
    """Publish the outbox to NATS JetStream (one leader at a time; others stand by)."""
    from prometheus_client import CollectorRegistry

    from clearway.wiring.runtime import relay_for, run_until_signalled, serve_metrics, settle
    from clearway.wiring.services import build

    settings = _settings(database)
    _logging()
    services = build(settings)
    registry = CollectorRegistry()
    serve_metrics(registry, metrics_port)
    q = settings.queue
    err.print(f"relay for queue {q.name}: {settings.database_url} → {q.nats_url}")
    settle()
    run_until_signalled(relay_for(services, registry))
    services.close()


def worker(
    database: DatabaseOpt = None,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Messages per batch")] = 200,
    metrics_port: MetricsOpt = None,
) -> None:
    """Assess and decide queued filings: one member of the durable consumer group."""
    from prometheus_client import CollectorRegistry

    from clearway.wiring.runtime import run_until_signalled, serve_metrics, settle, worker_for
    from clearway.wiring.services import build

    settings = _settings(database)
    _logging()
    services = build(settings)
    registry = CollectorRegistry()
    serve_metrics(registry, metrics_port)
    q = settings.queue
    err.print(f"worker on queue {q.name} ({q.nats_url}), batches of {batch}")
    settle()
    run_until_signalled(worker_for(services, batch=batch, registry=registry))
    services.close()


@queue_app.command("status")
def status(
    database: DatabaseOpt = None,
    dead: Annotated[int, typer.Option(min=0, max=1000, help="Newest dead letters to show")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Outbox depth, relay leader, stream lag, in-flight messages and dead letters."""
    from clearway.messaging.status import gather
    from clearway.storage.engine import make_engine

    settings = _settings(database)
    engine = make_engine(settings.database_url)
    st = gather(engine, settings.queue, last_dead=dead)
    engine.dispose()
    if as_json:
        sys.stdout.buffer.write(msgspec.json.encode(st.as_json()) + b"\n")
    else:
        table = Table(title=f"queue {st.queue}", show_header=False)
        age = f"{st.outbox_oldest_seconds:.1f} s" if st.outbox_oldest_seconds is not None else "-"
        table.add_row("outbox rows (not yet published)", str(st.outbox_rows))
        table.add_row("oldest outbox row", age)
        table.add_row("relay leader", st.relay_leader or "[yellow]none[/yellow]")
        if st.stream is not None:
            table.add_row("stream lag (pending + in flight)", str(st.stream.lag))
            table.add_row("in flight at workers", str(st.stream.in_flight))
            table.add_row("redelivered in flight", str(st.stream.redelivered))
            table.add_row("idle worker requests", str(st.stream.workers_waiting))
            table.add_row("dead letters", str(st.stream.dead_letters))
        else:
            table.add_row("NATS", f"[red]{st.nats_error}[/red] ({st.nats_url})")
        Console().print(table)
        for letter in st.dead:
            print(
                f"dead letter {letter.get('stream_sequence')}: {letter.get('consignment_id')} "
                f"v{letter.get('version')}: {letter.get('title')}: {letter.get('detail')}"
            )
    if st.nats_error:
        raise typer.Exit(1)
