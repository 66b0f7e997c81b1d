"""Single filings through the HTTP API: throughput and latency of `POST /v1/filings`.

A real `clearway serve` process (the compose file's command) on a fresh database; 8 client
threads, each on one keep-alive connection, send one generated filing per request (every
party's legs of realistic parcels, planted violations, all from one platform key) for a fixed
time, each sending its next filing when the answer to the last is in. The first seconds warm
up and are not counted. Printed per shape: answered filings per second, p50/p95/p99 latency,
the answers by status, the server's mean group size (filings per pipeline batch, from its
/metrics) and the machine's load average before and after.

    .venv/bin/python bench/api.py [--seconds 20] [--clients 8] [--shapes sqlite,postgresql,queued]
    .venv/bin/python bench/api.py --set CLEARWAY_GROUP_MAX=1    # without group commit

Shapes: `sqlite` and `postgresql` run the pipeline in the API process (answers 201 with the
decision); `queued` is the queued runtime's API (PostgreSQL + NATS JetStream, its relay in
the process, answers 202: stored, decided later by workers, none of which run here).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from clearway.simulation.generator import TrafficGenerator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scale import drop_database, fresh_database, pct
from tests.scale.cluster import Api, compose_command
from tests.scale.conftest import NatsServer, queued_env, spare_port

# one platform key from one address, far above an ordinary filer's rate limit
UNLIMITED = {"CLEARWAY_RATE_PER_KEY": "0", "CLEARWAY_RATE_PER_ADDRESS": "0"}
METRICS_TOKEN = uuid.uuid4().hex


def bodies(client: int, n: int, seed: int) -> list[bytes]:
    """n encoded filings for one client; seeds differ per client, so references do too."""
    out: list[bytes] = []
    for parcel in TrafficGenerator(seed * 1000 + client).parcels(n):
        out.extend(msgspec.json.encode(doc) for doc in parcel.filings)
    return out[:n]


@dataclass(eq=False)
class Client(threading.Thread):
    """One keep-alive connection sending filings one after another until `stop`."""

    port: int
    key: str
    docs: list[bytes]
    stop: float = 0.0
    answers: list[tuple[float, float, int]] = field(default_factory=list)  # sent, took, status

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for body in self.docs:
            start = time.perf_counter()
            if start >= self.stop:
                break
            conn.request("POST", "/v1/filings", body, headers)
            answer = conn.getresponse()
            answer.read()
            self.answers.append((start, time.perf_counter() - start, answer.status))
        conn.close()


def serve(
    shape: str, work: Path, nats: NatsServer | None, extra: dict[str, str]
) -> tuple[Api, str, str | None]:
    """A started API for the shape, its platform key and the PostgreSQL database to drop."""
    from clearway.storage.engine import make_engine
    from clearway.storage.migrate import upgrade
    from clearway.storage.repository import Operators

    pg = fresh_database() if shape in ("postgresql", "queued") else None
    url = pg or f"sqlite:///{work / f'{shape}.sqlite'}"
    if shape == "queued":
        assert nats is not None and pg is not None
        env = queued_env(pg, nats.url, f"api_{uuid.uuid4().hex[:8]}", **UNLIMITED)
        env["CLEARWAY_RELAY_IN_API"] = "true"
    else:
        env = {**os.environ, **UNLIMITED, "CLEARWAY_DATABASE_URL": url}
        env["CLEARWAY_RUNTIME"] = "inline"
    env.setdefault("CLEARWAY_SAMPLE_RATE", "0.01")
    env["CLEARWAY_METRICS_TOKEN"] = METRICS_TOKEN
    env.update(extra)
    engine = make_engine(url)
    upgrade(engine)
    key = Operators(engine).create_key("Bench Platform", "platform")
    engine.dispose()
    cmd = compose_command("api")
    cmd[cmd.index("--port") + 1] = str(spare_port())
    cmd[cmd.index("--host") + 1] = "127.0.0.1"
    api = Api(f"api-{shape}", cmd, env, work)
    api.start()
    return api, key, pg


def groups(port: int) -> tuple[float, float]:
    """Groups filed and filings in them so far, from the server's /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = conn.getresponse().read().decode()
    conn.close()

    def value(name: str) -> float:
        found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else float("nan")

    return value("clearway_filing_groups_total"), value("clearway_filing_group_filings_total")


def run(
    shape: str, args: argparse.Namespace, work: Path, nats: NatsServer | None
) -> dict[str, Any]:
    # more filings than a client can send in the time (3,000 a second between all clients)
    per_client = int((args.seconds + args.warmup) * 3000 / args.clients) + 200
    docs = [bodies(i, per_client, args.seed) for i in range(args.clients)]
    extra = dict(kv.split("=", 1) for kv in args.set)
    api, key, pg = serve(shape, work, nats, extra)
    try:
        api.wait_healthy()
        port = int(api.args[api.args.index("--port") + 1])
        # the first filing waits for what loads once per process (the HS classifier's index)
        Client(
            port, key, [bodies(args.clients, 1, args.seed + 1)[0]], time.perf_counter() + 1
        ).run()
        load = [os.getloadavg()[0]]
        begin = time.perf_counter()
        counted_from = begin + args.warmup
        stop = counted_from + args.seconds
        clients = [Client(port, key, d, stop) for d in docs]
        for c in clients:
            c.start()
        while time.perf_counter() < counted_from:
            time.sleep(0.05)
        g0 = groups(port)
        for c in clients:
            c.join(args.seconds + 120)
        g1 = groups(port)
        load.append(os.getloadavg()[0])
    finally:
        api.stop()
        if pg is not None:
            drop_database(pg)
    counted = [
        (took, status)
        for c in clients
        for sent, took, status in c.answers
        if counted_from <= sent < stop
    ]
    ms = [took * 1000 for took, _ in counted]
    statuses = Counter(status for _, status in counted)
    ok = sum(n for s, n in statuses.items() if s < 300)
    return {
        "shape": shape,
        "filings/s": ok / args.seconds,
        "p50": pct(ms, 0.50),
        "p95": pct(ms, 0.95),
        "p99": pct(ms, 0.99),
        "answers": dict(sorted(statuses.items())),
        "group": (g1[1] - g0[1]) / (g1[0] - g0[0]) if g1[0] > g0[0] else float("nan"),
        "load": load,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="measured time per shape")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds sent before measuring")
    ap.add_argument("--clients", type=int, default=8, help="keep-alive client threads")
    ap.add_argument("--shapes", default="sqlite,postgresql", help="sqlite, postgresql, queued")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="CLEARWAY_X=V",
        help="a setting of the server, e.g. CLEARWAY_GROUP_MAX=1 (each filing alone)",
    )
    args = ap.parse_args()
    shapes = args.shapes.split(",")
    work = Path(tempfile.mkdtemp(prefix="clearway-api-bench-"))
    nats = NatsServer(work / "nats-store") if "queued" in shapes else None
    if nats is not None:
        nats.start()
    rows = []
    try:
        for shape in shapes:
            rows.append(run(shape, args, work, nats))
            r = rows[-1]
            print(
                f"{shape}: {r['filings/s']:,.0f} filings/s, p50/p95/p99 "
                f"{r['p50']:.1f}/{r['p95']:.1f}/{r['p99']:.1f} ms, answers {r['answers']}, "
                f"{r['group']:.1f} filings per group, load {r['load'][0]:.1f}→{r['load'][1]:.1f}",
                flush=True,
            )
    finally:
        if nats is not None:
            nats.stop()
    print(
        f"\n{args.clients} keep-alive clients, one filing per request, {args.seconds:.0f} s "
        f"measured after {args.warmup:.0f} s warm-up, {os.cpu_count()} cores, settings "
        f"{' '.join(args.set) or 'default'}; logs in {work}\n"
    )
    print("| shape | filings/s | p50 | p95 | p99 | filings per group |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['shape']} | {r['filings/s']:,.0f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms "
            f"| {r['p99']:.1f} ms | {r['group']:.1f} |"
        )


if __name__ == "__main__":
    main()
