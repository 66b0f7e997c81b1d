"""The cost of the strict input grammar next to the fast typed decode, per canonical filing.

Run: .venv/bin/python bench/strict_input.py [--filings 20000]
Prints filings/s for the msgspec typed decode alone, the strict pre-pass alone
(`clearway.kernel.strict_json.json_problems`) and both, as `clearway.clearance.intake` does.
"""

from __future__ import annotations

import argparse
import time

import msgspec

from clearway.clearance.intake import submission
from clearway.domain.filing import FilingDocument, decode_filing
from clearway.kernel.strict_json import json_problems
from clearway.simulation.generator import TrafficGenerator


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filings", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    bodies: list[bytes] = []
    for parcel in TrafficGenerator(args.seed).parcels(args.filings):
        bodies += [msgspec.json.encode(doc) for doc in parcel.filings]
        if len(bodies) >= args.filings:
            break
    bodies = bodies[: args.filings]
    for name, step in (
        ("typed decode (msgspec)", decode_filing),
        ("strict pre-pass", lambda b: json_problems(b, FilingDocument)),
        ("both (intake.submission)", submission),
    ):
        start = time.perf_counter()
        for body in bodies:
            step(body)
        took = time.perf_counter() - start
        print(f"{name:28} {len(bodies) / took:>10,.0f} filings/s")


if __name__ == "__main__":
    main()
