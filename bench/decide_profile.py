"""Where a worker's time goes: the queued runtime's decide step, profiled.

Generated filings are taken in (`Pipeline.process` with decisions deferred, as the API does) on
a fresh PostgreSQL database; the outbox rows are then decided in batches by
`Pipeline.decide_pending` — the step a `clearway worker` runs between a JetStream fetch and its
acks — under cProfile. The first batch runs before the profile (it pays the HS classifier's
warm-up). Prints intake and decide rates and the profile's top entries. No NATS: the
messaging side is measured by bench/scale.py.

    .venv/bin/python bench/decide_profile.py [--filings 2000] [--batch 200] [--sort tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scale import drop_database, filings, fresh_database

from clearway.clearance.pending import decode_pending
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.messaging.settings import QueueSettings
from clearway.wiring.services import build
from clearway.wiring.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--filings", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=200, help="pending decisions per batch")
    ap.add_argument("--sort", default="tottime", help="cProfile sort key")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    docs = filings(args.filings, 11)
    url = fresh_database()
    try:
        queue = QueueSettings(runtime="queued", name="profile")
        s = build(Settings(database_url=url, sample_rate=0.01, queue=queue))
        filer = Filer(s.operators.ensure("Bench", "platform"), "Bench", "platform")
        start = time.perf_counter()
        for i in range(0, len(docs), 100):
            s.pipeline.process(filer, [Submission(from_builtins(d)) for d in docs[i : i + 100]])
        intake = time.perf_counter() - start
        with s.engine.connect() as conn:
            rows = [r[0] for r in conn.execute(text("SELECT payload FROM outbox ORDER BY id"))]
        pending = [decode_pending(p) for p in rows]
        print(f"intake: {len(docs):,} filings in {intake:.1f} s, {len(docs) / intake:,.0f}/s")
        start = time.perf_counter()
        s.pipeline.decide_pending(pending[: args.batch])
        print(f"first batch (warm-up): {time.perf_counter() - start:.1f} s")
        rest = pending[args.batch :]
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        for i in range(0, len(rest), args.batch):
            s.pipeline.decide_pending(rest[i : i + args.batch])
        profile.disable()
        took = time.perf_counter() - start
        print(
            f"decide: {len(rest):,} in {took:.1f} s, {len(rest) / took:,.0f}/s (batch {args.batch})"
        )
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        s.close()
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
