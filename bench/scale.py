"""Scale-out figures: the inline SQLite shape next to the queued shape with 1, 2 and 4 workers.

Every shape gets the same generated filings through the HTTP API (`POST /v1/filings/batch`,
several client threads) on fresh databases, with real processes started from the compose
file's commands: PostgreSQL on this machine, a private nats-server. It prints a Markdown table:
throughput from the first request to the last decision, and p50/p99 time from filing to
decision (inline: the request itself, since the answer carries the decision; queued: from the
filing's acceptance, `filings.received_at`, to its decision event).

    .venv/bin/python bench/scale.py [--filings 20000] [--workers 1,2,4]

The kill -9 fault run at volume is the fault test itself, sized by an environment variable:
`CLEARWAY_FAULT_FILINGS=50000 .venv/bin/pytest tests/scale/test_faults.py`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import psycopg

from clearway.simulation.generator import TrafficGenerator

# the process harness is the fault tests' own (tests/scale): the same commands, the same checks
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.scale.cluster import Api, Cluster, Load, compose_command
from tests.scale.conftest import NatsServer, spare_port

PG_ADMIN = os.environ.get("CLEARWAY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def filings(n: int, seed: int) -> list[dict[str, Any]]:
    """n generated filings (every party's legs of realistic parcels), as JSON objects."""
    out: list[dict[str, Any]] = []
    for parcel in TrafficGenerator(seed).parcels(n):
        for doc in parcel.filings:
            out.append(msgspec.to_builtins(doc))
            if len(out) == n:
                return out
    return out


def fresh_database() -> str:
    name = f"clearway_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_inline(docs: list[dict[str, Any]], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    db = work / "inline.sqlite"
    env = {
        **os.environ,
        "CLEARWAY_RUNTIME": "inline",
        "CLEARWAY_DATABASE_URL": f"sqlite:///{db}",
        "CLEARWAY_SAMPLE_RATE": "0.01",
    }
    from clearway.storage.engine import make_engine
    from clearway.storage.migrate import upgrade
    from clearway.storage.repository import Operators

    engine = make_engine(env["CLEARWAY_DATABASE_URL"])
    upgrade(engine)
    key = Operators(engine).create_key("Bench Platform", "platform")
    engine.dispose()
    cmd = compose_command("api")
    cmd[cmd.index("--port") + 1] = str(spare_port())
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    api = Api("inline-api", cmd, env, work)
    api.start()
    try:
        api.wait_healthy()
        start = time.perf_counter()
        load = Load([api], key, docs, batch=args.batch, threads=args.clients).start()
        load.join(3600)
        seconds = time.perf_counter() - start
    finally:
        api.stop()
    per_filing = [lat for lat, n in load.latencies for _ in range(n)]
    return {
        "shape": "inline, SQLite, 1 API process",
        "filings": len(docs),
        "seconds": seconds,
        "p50": pct(per_filing, 0.50),
        "p99": pct(per_filing, 0.99),
    }


_LATENCY = """
SELECT extract(epoch FROM e.at - (
    SELECT max(f.received_at) FROM filings f
    WHERE f.consignment_id = e.consignment_id AND f.received_at <= e.at))
FROM events e WHERE e.kind IN ('decide', 'refer')
"""


def run_queued(
    docs: list[dict[str, Any]], workers: int, work: Path, nats: NatsServer, args: argparse.Namespace
) -> dict[str, Any]:
    url = fresh_database()
    cluster = Cluster(work, url, nats.url, f"bench_{uuid.uuid4().hex[:8]}")
    try:
        cluster.migrate()
        api = cluster.api(f"api-w{workers}", CLEARWAY_RELAY_IN_API="true").start()
        for i in range(workers):
            cluster.service("worker", f"worker{i + 1}-of-{workers}").start()
        api.wait_healthy()
        key = cluster.key("Bench Platform")
        wait_for_workers(cluster, workers)
        start = time.perf_counter()
        load = Load([api], key, docs, batch=args.batch, threads=args.clients).start()
        load.join(3600)
        cluster.wait_drained(timeout=3600)
        seconds = time.perf_counter() - start
        lat = [float(r[0]) for r in cluster.sql(_LATENCY) if r[0] is not None]
        return {
            "shape": f"queued, PostgreSQL + JetStream, 1 API, {workers} worker"
            + ("s" if workers > 1 else ""),
            "filings": len(docs),
            "seconds": seconds,
            "p50": pct(lat, 0.50),
            "p99": pct(lat, 0.99),
        }
    finally:
        cluster.stop()
        drop_database(url)


def wait_for_workers(cluster: Cluster, workers: int, timeout: float = 900.0) -> None:
    """Until every worker has a pull request waiting: the clock starts with all of them ready."""
    from clearway.messaging.settings import QueueSettings
    from clearway.messaging.status import gather

    q = QueueSettings(
        runtime="queued",
        nats_url=cluster.env["CLEARWAY_NATS_URL"],
        name=cluster.env["CLEARWAY_QUEUE_NAME"],
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = gather(cluster.engine, q, last_dead=0)
        if st.stream is not None and st.stream.workers_waiting >= workers:
            return
        time.sleep(0.5)
    raise SystemExit(f"{workers} workers not ready within {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--filings", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--batch", type=int, default=100, help="filings per request")
    ap.add_argument("--clients", type=int, default=4, help="client threads")
    ap.add_argument("--workers", default="1,2,4", help="worker counts of the queued runs")
    args = ap.parse_args()
    docs = filings(args.filings, args.seed)
    work = Path(tempfile.mkdtemp(prefix="clearway-scale-"))
    nats = NatsServer(work / "nats-store")
    nats.start()
    try:
        rows = [run_inline(docs, work, args)]
        print(_row(rows[-1]), flush=True)
        for m in (int(x) for x in args.workers.split(",")):
            rows.append(run_queued(docs, m, work, nats, args))
            print(_row(rows[-1]), flush=True)
    finally:
        nats.stop()
    print(
        f"\n{len(docs):,} filings, batches of {args.batch}, {args.clients} clients, "
        f"{os.cpu_count()} cores; logs in {work}\n"
    )
    print("| shape | filings/s | p50 filing→decision | p99 filing→decision |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['shape']} | {r['filings'] / r['seconds']:,.0f} | "
            f"{r['p50'] * 1000:,.0f} ms | {r['p99'] * 1000:,.0f} ms |"
        )


def _row(r: dict[str, Any]) -> str:
    return (
        f"{r['shape']}: {r['filings'] / r['seconds']:,.0f} filings/s, "
        f"p50 {r['p50'] * 1000:,.0f} ms, p99 {r['p99'] * 1000:,.0f} ms"
    )


if __name__ == "__main__":
    main()
