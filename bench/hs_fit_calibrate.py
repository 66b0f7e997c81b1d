"""Calibrate the `hs_fit` risk condition ("declared HS code inconsistent with the description"):
`python bench/hs_fit_calibrate.py [--parcels 3000] [--seed 11]`.

For thresholds on the probability the classifier gives the declared code's chapter, prints:
- the false-positive rate on clean generated traffic (items of parcels without a planted
  violation, `clearway generate`'s ground truth) and on the ATLAS validation rulings with their
  true codes (real descriptions, real codes);
- the share caught of the planted `wrong_hs_code` items (the generator swaps in a product of
  another chapter) and of the ATLAS validation rulings with a code from another chapter.
The test sets are not read. The shipped threshold is in `risk/profiles/descriptions.yaml`.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from clearway.classification.evaluation import read_examples
from clearway.simulation.generator import TrafficGenerator
from clearway.wiring.services import classifier_for

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = (
    ROOT / ".." / "shared" / "data" / "hs_labelled" / "atlas_cross_rulings" / "validation.jsonl"
)
THRESHOLDS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parcels", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    clf = classifier_for(None).get()
    clean: list[tuple[str, str]] = []
    planted: list[tuple[str, str]] = []
    for p in TrafficGenerator(args.seed).parcels(args.parcels):
        items = p.filings[-1].get("items", [])
        pairs = [(str(i["description"]), str(i["hs_code"])) for i in items if i.get("hs_code")]
        if not p.violations:
            clean.extend(pairs)
        elif "wrong_hs_code" in p.violations and pairs:
            planted.append(pairs[0])
    rulings = read_examples(VALIDATION)
    rng = random.Random(args.seed)
    true_pairs = [(r.description, r.codes[0]) for r in rulings]
    other = [c for c in clf.codes]
    wrong_pairs = [
        (r.description, rng.choice([c for c in other if c[:2] != r.codes[0][:2]])) for r in rulings
    ]
    start = time.perf_counter()
    scored = {
        name: [f.chapter_probability for f in clf.fit_many(pairs)]
        for name, pairs in (
            ("clean traffic", clean),
            ("planted wrong codes", planted),
            ("ATLAS true codes", true_pairs),
            ("ATLAS other chapter", wrong_pairs),
        )
    }
    took = time.perf_counter() - start
    total = sum(len(v) for v in scored.values())
    distinct = len({d for d, _ in clean + planted + true_pairs})
    print(f"{total} items ({distinct} distinct descriptions) scored in {took:.1f} s")
    print(
        f"{'threshold':>9}  {'FP clean traffic':>16}  {'caught planted':>14}  "
        f"{'FP ATLAS true':>13}  {'caught ATLAS other':>18}"
    )
    for t in THRESHOLDS:
        share = {k: sum(p < t for p in v) / max(len(v), 1) for k, v in scored.items()}
        print(
            f"{t:>9}  {share['clean traffic']:>16.2%}  {share['planted wrong codes']:>14.1%}  "
            f"{share['ATLAS true codes']:>13.1%}  {share['ATLAS other chapter']:>18.1%}"
        )
    print(
        f"clean items {len(scored['clean traffic'])}, planted {len(scored['planted wrong codes'])},"
        f" ATLAS validation {len(true_pairs)}"
    )


if __name__ == "__main__":
    main()
