"""Bulk filing throughput: `clearway file` on N generated filings into a fresh SQLite file.

Prints filings/s end to end and the ratio to merely decoding the same file (the floor set by
the decoder). Run: .venv/bin/python bench/bulk.py [--filings 200000] [--profile]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import msgspec

from clearway.clearance.intake import read_submissions
from clearway.clearance.ports import Filer
from clearway.simulation.generator import TrafficGenerator
from clearway.wiring.services import build
from clearway.wiring.settings import Settings


def make_file(path: Path, n: int, seed: int) -> None:
    gen = TrafficGenerator(seed)
    written = 0
    with path.open("wb") as f:
        for parcel in gen.parcels(n):
            for doc in parcel.filings:
                if written == n:
                    return
                f.write(msgspec.json.encode(doc) + b"\n")
                written += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filings", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--profile", action="store_true", help="profile with pyinstrument")
    args = ap.parse_args()
    work = Path("var/bench")
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"filings-{args.filings}-{args.seed}.jsonl"
    if not data.exists():
        t = time.perf_counter()
        make_file(data, args.filings, args.seed)
        print(f"generated {data} in {time.perf_counter() - t:.1f}s")
    content = data.read_bytes()

    t = time.perf_counter()
    subs = list(read_submissions(content))
    decode_s = time.perf_counter() - t
    n = len(subs)

    db = work / "bulk.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    services = build(Settings(database_url=f"sqlite:///{db}"))
    filer = Filer(
        services.operators.ensure("Bench Platform", "platform"), "Bench Platform", "platform"
    )
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    t = time.perf_counter()
    subs = list(read_submissions(content))  # end to end includes decoding
    accepted = 0
    for i in range(0, n, args.batch):
        accepted += sum(
            r.accepted for r in services.pipeline.process(filer, subs[i : i + args.batch])
        )
    total_s = time.perf_counter() - t
    if profiler is not None:
        profiler.stop()
        out = work / "bulk-profile.txt"
        out.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
        print(f"profile: {out}")
    services.close()
    print(f"filings:            {n} ({accepted} accepted) on {os.cpu_count()} cores")
    print(f"decode only:        {n / decode_s:,.0f} filings/s ({decode_s:.2f}s)")
    print(f"end to end:         {n / total_s:,.0f} filings/s ({total_s:.2f}s)")
    print(f"ratio to decoding:  {decode_s / total_s:.3f} (end-to-end speed / decode speed)")


if __name__ == "__main__":
    main()
