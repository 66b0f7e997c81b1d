"""Bulk filing throughput: the batch pipeline on N generated filings, SQLite and PostgreSQL.

One run prints: decode-only speed (the floor the decoder sets), end to end on a fresh SQLite file
and a fresh PostgreSQL database, the ratio of each to decoding, a per-step profile (where the
time of the end-to-end run went) and, with `--rss`, the peak resident memory of an end-to-end
run at each size in its own process (memory must stay flat in input size: the file is read and
filed in batches, never loaded whole).

Wall-clock and CPU seconds are both printed: on a shared machine the process's CPU time says
what the work costs when other programs take turns on the cores. Start-up (packs, tariffs, the HS
classifier's index) is done before the clock starts and printed on its own line.

    .venv/bin/python bench/bulk.py [--filings 200000] [--databases sqlite,postgresql]
        [--rss 100000,1000000] [--profile]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import psycopg

from clearway.clearance.intake import read_submissions
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.simulation.generator import TrafficGenerator
from clearway.wiring.runtime import settle
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

WORK = Path("var/bench")
# CLEARWAY_BENCH_SETTLE=0 measures without freezing start-up's objects out of the collector's way
SETTLE = os.environ.get("CLEARWAY_BENCH_SETTLE", "1") != "0"
PG_ADMIN = os.environ.get("CLEARWAY_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def make_file(path: Path, n: int, seed: int) -> None:
    """n generated filings (every party's legs of realistic parcels) as JSON Lines, streamed."""
    gen = TrafficGenerator(seed)
    written = 0
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as f:
        for parcel in gen.parcels(n):
            for doc in parcel.filings:
                if written == n:
                    break
                f.write(msgspec.json.encode(doc) + b"\n")
                written += 1
            if written == n:
                break
    tmp.rename(path)


def data_file(n: int, seed: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"filings-{n}-{seed}.jsonl"
    if not path.exists():
        t = time.perf_counter()
        make_file(path, n, seed)
        print(f"generated {path} in {time.perf_counter() - t:.1f}s", flush=True)
    return path


def batches(path: Path, size: int) -> Iterator[list[Submission]]:
    """The file's filings decoded `size` at a time (the file is never read whole)."""
    with path.open("rb") as f:
        while chunk := list(itertools.islice(f, size)):
            yield list(read_submissions(b"".join(chunk)))


@dataclass
class Clock2:
    """Wall and CPU seconds of a stretch of work."""

    wall: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: Clock2) -> Clock2:
        return Clock2(self.wall + other.wall, self.cpu + other.cpu)


def timed(fn: Callable[[], Any]) -> tuple[Any, Clock2]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, Clock2(time.perf_counter() - w, time.process_time() - c)


@dataclass
class Steps:
    """Time per pipeline step, taken at the pipeline's ports (store, assessor, selector)."""

    spent: dict[str, Clock2] = field(default_factory=lambda: defaultdict(Clock2))

    def wrap(self, target: Any, label: Callable[[str], str]) -> Any:
        steps = self

        class Timed:
            def __getattr__(self, name: str) -> Any:
                value = getattr(target, name)
                if not callable(value):
                    return value

                def call(*args: Any, **kwargs: Any) -> Any:
                    out, spent = timed(lambda: value(*args, **kwargs))
                    steps.spent[label(name)] += spent
                    return out

                return call

        return Timed()


def _store_step(name: str) -> str:
    return "store: write (one transaction)" if name == "commit" else "store: reads"


def decode_only(path: Path, size: int) -> tuple[int, Clock2]:
    def run() -> int:
        return sum(len(b) for b in batches(path, size))

    return timed(run)


def fresh_pg() -> str:
    name = f"clearway_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def drop_pg(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def database_url(kind: str) -> str:
    if kind == "postgresql":
        return fresh_pg()
    db = WORK / "bulk.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


def ready(url: str) -> tuple[Services, Filer, Clock2]:
    """Services built and warmed (packs, tariffs, HS classifier): start-up, not throughput."""

    def start() -> tuple[Services, Filer]:
        services = build(Settings(database_url=url))
        services.classifier.get()
        if SETTLE:
            settle()  # as `clearway serve`, the workers and `clearway file` do after start-up
        filer = Filer(
            services.operators.ensure("Bench Platform", "platform"), "Bench Platform", "platform"
        )
        return services, filer

    (services, filer), spent = timed(start)
    return services, filer, spent


@dataclass
class Run:
    n: int = 0
    accepted: int = 0
    total: Clock2 = field(default_factory=Clock2)
    decode: Clock2 = field(default_factory=Clock2)
    steps: Steps = field(default_factory=Steps)


def end_to_end(path: Path, size: int, services: Services, filer: Filer, profile: bool) -> Run:
    run = Run()
    pipeline = services.pipeline
    pipeline.store = run.steps.wrap(pipeline.store, _store_step)
    pipeline.assessor = run.steps.wrap(pipeline.assessor, lambda _: "revenue: assess")
    pipeline.selector = run.steps.wrap(pipeline.selector, lambda _: "risk: decide")
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()

    def go() -> None:
        reader = batches(path, size)
        while True:
            subs, spent = timed(lambda: next(reader, None))
            run.decode += spent
            if subs is None:
                return
            results = pipeline.process(filer, subs)
            run.n += len(subs)
            run.accepted += sum(r.accepted for r in results)

    _, run.total = timed(go)
    if profiler is not None:
        profiler.stop()
        out = WORK / "bulk-profile.txt"
        out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        print(f"pyinstrument profile: {out}")
    return run


def rate(n: int, c: Clock2) -> str:
    return f"{n / c.wall:>9,.0f}/s wall ({c.wall:7.2f}s) {n / c.cpu:>9,.0f}/s CPU ({c.cpu:7.2f}s)"


def report(kind: str, run: Run, startup: Clock2, decode: Clock2, n: int) -> None:
    print(f"\n== end to end on {kind}: {run.n} filings, {run.accepted} accepted")
    print(f"start-up (not counted)  {startup.wall:6.1f}s wall {startup.cpu:6.1f}s CPU")
    print(f"end to end        {rate(run.n, run.total)}")
    print(
        f"ratio to decoding  {decode.wall / run.total.wall * run.n / n:.3f} wall, "
        f"{decode.cpu / run.total.cpu * run.n / n:.3f} CPU (end-to-end speed / decode speed)"
    )
    print("per step (CPU s, share of the run's CPU):")
    parts = dict(run.steps.spent)
    parts["decode (strict JSON grammar)"] = run.decode
    rest = run.total.cpu - sum(c.cpu for c in parts.values())
    parts["validate, classify, merge, events (the rest)"] = Clock2(0.0, rest)
    for name, c in sorted(parts.items(), key=lambda kv: -kv[1].cpu):
        print(f"  {name:<46} {c.cpu:8.2f}s {100 * c.cpu / run.total.cpu:5.1f} %")


def peak_rss(n: int, seed: int, size: int) -> None:
    """Child process: file n filings into a fresh SQLite file; print the peak RSS in MiB."""
    path = data_file(n, seed)
    db = WORK / f"rss-{n}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    services, filer, _ = ready(f"sqlite:///{db}")
    run = end_to_end(path, size, services, filer, profile=False)
    services.close()
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RSS {n} {kib / 1024:.0f} {run.total.wall:.1f} {run.total.cpu:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filings", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--rss", default="", help="sizes for peak-RSS runs, e.g. 100000,1000000")
    ap.add_argument("--profile", action="store_true", help="also profile with pyinstrument")
    ap.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        peak_rss(args.rss_child, args.seed, args.batch)
        return
    path = data_file(args.filings, args.seed)
    with open("/proc/loadavg") as f:
        print(f"{os.cpu_count()} cores; load average {' '.join(f.read().split()[:3])}")
    n, decode = decode_only(path, args.batch)
    print(f"decode only       {rate(n, decode)}  ({n} filings, batches of {args.batch})")
    for kind in [k for k in args.databases.split(",") if k]:
        url = database_url(kind)
        try:
            services, filer, startup = ready(url)
            run = end_to_end(path, args.batch, services, filer, args.profile)
            services.close()
        finally:
            if kind == "postgresql":
                drop_pg(url)
        report(kind, run, startup, decode, n)
    sizes = [int(s) for s in args.rss.split(",") if s]
    if sizes:
        print("\n== peak RSS, end to end on SQLite, each size in its own process")
    for size in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(size), "--seed", str(args.seed)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        _, got, mib, wall, cpu = out[out.index("RSS") :][:5]
        print(f"  {int(got):>9,} filings: peak RSS {mib} MiB ({wall}s wall, {cpu}s CPU)")
    with open("/proc/loadavg") as f:
        print(f"\nload average at the end {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()
