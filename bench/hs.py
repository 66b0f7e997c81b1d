"""HS classifier memory and latency: `python bench/hs.py [--n 200]`.

Loads the classifier (index from the cache; built first if missing), then times on the ATLAS
validation descriptions and on short e-commerce titles from the generated catalogue:
- one description at a time, never seen before (the `clearway hs suggest` / API case);
- a batch in one `suggest_many` call (the risk profile's case);
- the same descriptions again (answered from the per-description cache).
Prints resident memory before and after loading. Run it on a quiet machine: with the two cores
shared, every figure grows with the load (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

from clearway.classification.evaluation import read_examples
from clearway.simulation.generator import catalogue
from clearway.wiring.services import classifier_for

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = (
    ROOT / ".." / "shared" / "data" / "hs_labelled" / "atlas_cross_rulings" / "validation.jsonl"
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    before = _rss_mb()
    start = time.perf_counter()
    clf = classifier_for(None).get()
    print(f"load: {time.perf_counter() - start:.1f} s, peak RSS {before:.0f} → {_rss_mb():.0f} MB")
    rulings = [e.description for e in read_examples(VALIDATION)][: args.n]
    titles = [str(p["description"]) for p in catalogue()["products"]]
    for name, texts in (("ATLAS rulings", rulings), ("catalogue titles", titles)):
        times = []
        clf.clear_cache()
        for t in texts:
            s = time.perf_counter()
            clf.suggest(t, "US")
            times.append((time.perf_counter() - s) * 1000)
        batch = list(texts)
        clf.clear_cache()
        s = time.perf_counter()
        clf.suggest_many(batch, "US")
        per_batch = (time.perf_counter() - s) * 1000 / len(batch)
        s = time.perf_counter()
        clf.suggest_many(batch, "US")
        cached = (time.perf_counter() - s) * 1000 / len(batch)
        times.sort()
        print(
            f"{name} ({len(texts)}): one at a time p50 {statistics.median(times):.1f} ms, "
            f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms; in one batch {per_batch:.1f} ms "
            f"each; cached {cached:.2f} ms each"
        )
    print(f"peak RSS after the runs: {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
