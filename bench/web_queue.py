"""Work-queue pages on 100,000 consignments: load a day of generated traffic through the
pipeline, present every parcel at the border, then time the officer queue (default, by lane, by
office, by reason, deep page), the agency queue, the routing sweep and the profile hit counts,
and whole page renders over HTTP; prints the query plans.

Run: .venv/bin/python bench/web_queue.py [--consignments 100000] [--database URL] [--reuse]
(default database: a fresh SQLite file var/bench/web_queue.sqlite; for PostgreSQL pass an empty
database's URL).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from clearway.api.app import create_app
from clearway.clearance.intake import read_submissions
from clearway.clearance.ports import Filer
from clearway.simulation.generator import TrafficGenerator
from clearway.storage import tables as t
from clearway.storage.web_repository import QueueFilter, WebStore
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

RUNS = 7


def load(svc: Services, n: int, seed: int) -> None:
    filer = Filer(svc.operators.ensure("Bench Post", "post"), "Bench Post", "post")
    gen = TrafficGenerator(seed)
    lines: list[bytes] = []
    started = time.perf_counter()
    tds: list[str] = []
    for parcel in gen.parcels(n):
        for doc in parcel.filings:
            lines.append(msgspec.json.encode(doc))
        tds.append(str(parcel.filings[-1]["transport_document"]))
        if len(lines) >= 2000:
            svc.pipeline.process(filer, list(read_submissions(b"\n".join(lines))))
            lines.clear()
    if lines:
        svc.pipeline.process(filer, list(read_submissions(b"\n".join(lines))))
    print(f"filed {n} parcels in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    for i in range(0, len(tds), 2000):
        svc.clearance.arrive(tds[i : i + 2000], "post:Bench Post")
    print(f"presented {len(tds)} parcels in {time.perf_counter() - started:.1f}s")


def timed(label: str, fn: Callable[[], Any], runs: int = RUNS) -> Any:
    times = []
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{label:<46} median {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--consignments", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--database", default=None)
    ap.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    args = ap.parse_args()
    url = args.database
    if url is None:
        db = Path("var/bench/web_queue.sqlite")
        db.parent.mkdir(parents=True, exist_ok=True)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    svc = build(Settings(database_url=url, sample_rate=0.01))
    with svc.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(t.consignments)).scalar_one()
    if not (args.reuse and have):
        load(svc, args.consignments, args.seed)
    # Planner statistics and (PostgreSQL) the visibility map, as autovacuum keeps them on a
    # live database; without them index-only scans still visit every heap page.
    with svc.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        sql = "VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"
        conn.execute(text(sql))
    web = WebStore(svc.engine, svc.clock)
    with svc.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t.consignments)).scalar_one()
        held = conn.execute(
            select(func.count()).where(t.consignments.c.status.in_(("held", "inspected")))
        ).scalar_one()
    print(f"{svc.engine.dialect.name}: {total} consignments, {held} held")

    timed("routing + hit index sweep (first, all rows)", web.sweep, runs=1)
    timed("routing sweep (incremental, nothing new)", web.sweep)
    first = web.queue(QueueFilter())
    office = first.facets["office"][0][0]
    reason = first.facets["reason"][0][0]
    variants = {
        "queue: held, oldest first": QueueFilter(),
        "queue: lane red": QueueFilter(lane="red"),
        f"queue: office {office}": QueueFilter(office=office),
        "queue: reason (most common)": QueueFilter(reason=reason),
        "queue: newest first, page 20": QueueFilter(sort="newest", page=20),
        "queue: highest score": QueueFilter(sort="score"),
    }
    for label, f in variants.items():
        timed(label, lambda f=f: web.queue(f))
    agency = next(iter(web.routing.agencies))
    timed(f"agency queue: {agency}", lambda: web.agency_queue(agency, QueueFilter(sort="newest")))
    timed("profile hit counts and rates", web.profile_stats)

    if web.verify_password("bench.officer", "bench password 1") is None:
        web.create_user("bench.officer", "bench password 1", "officer")
    with TestClient(create_app(svc)) as client:
        client.get("/login")
        client.post(
            "/login",
            data={
                "csrf": client.cookies["cw_csrf"],
                "username": "bench.officer",
                "password": "bench password 1",
            },
        )
        cid = first.rows[0].id
        timed("HTTP GET /officer/ (whole page)", lambda: client.get("/officer/"))
        timed("HTTP GET /officer/?lane=red", lambda: client.get("/officer/?lane=red"))
        timed(
            "HTTP GET /officer/consignments/{id}",
            lambda: client.get(f"/officer/consignments/{cid}"),
        )
        timed(
            "HTTP GET /estimate (a quote)",
            lambda: client.get(
                "/estimate?destination=DE&currency=EUR&description_0=shoes&value_0=80&hs_code_0=640399"
            ),
        )

    for label, f in variants.items():
        print(f"\nplan, {label}:")
        for line in web.explain_queue(f):
            print("   ", line)
    svc.close()


if __name__ == "__main__":
    main()
