"""Tune the HS classifier's weights on the ATLAS validation set only:
`python bench/hs_tune.py [--data ../shared/data/hs_labelled/atlas_cross_rulings/validation.jsonl]`.

Each description is embedded once; the four signals per subheading (`Classifier.signals`) are
kept, and a grid of weights is scored on them (top-1 and top-5 accuracy at 6 digits, then 4).
The test sets (ATLAS test, HSCodeComp) are never read here: they stay held out.
Prints the best weights found; `Weights` in `classifier.py` holds the chosen ones.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from clearway.classification.evaluation import read_examples
from clearway.wiring.services import classifier_for

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / ".." / "shared" / "data" / "hs_labelled"
DEFAULT = LABELLED / "atlas_cross_rulings" / "validation.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT)
    args = parser.parse_args()
    if "test" in args.data.name:
        raise SystemExit("tune on a validation set only: the test sets are held out")
    examples = read_examples(args.data)
    clf = classifier_for(None).get()
    vectors = clf._encoder.encode([e.description for e in examples])  # one pass
    pairs = zip(examples, vectors, strict=True)
    signals = np.stack([clf.signals(e.description, v) for e, v in pairs])
    codes = np.array(clf.codes)
    truth6 = [{c[:6] for c in e.codes} for e in examples]
    truth4 = [{c[:4] for c in e.codes} for e in examples]
    results = []
    grid = itertools.product(
        [1.0], [0.0, 0.3, 0.6, 1.0], [0.0, 0.15, 0.3, 0.6], [0.0, 0.15, 0.25, 0.35, 0.5, 0.8]
    )
    for w in grid:
        scores = np.tensordot(signals, np.array(w, dtype=np.float32), axes=([1], [0]))
        top = np.argsort(-scores, axis=1)[:, :5]
        hit1 = np.mean([codes[t[0]] in s for t, s in zip(top, truth6, strict=True)])
        hit5 = np.mean([any(codes[i] in s for i in t) for t, s in zip(top, truth6, strict=True)])
        h4 = np.mean([codes[t[0]][:4] in s for t, s in zip(top, truth4, strict=True)])
        results.append((hit1, hit5, h4, w))
    results.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    print(f"{len(examples)} validation descriptions")
    print("top-1@6  top-5@6  top-1@4  weights (subheading, heading, chapter, lexical)")
    for hit1, hit5, h4, w in results[:12]:
        print(f"{hit1:7.3f}  {hit5:7.3f}  {h4:7.3f}  {w}")


if __name__ == "__main__":
    main()
