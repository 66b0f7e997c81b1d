"""The `hs_fit` condition: the declared HS code does not fit the goods description.

The HS classifier (`clearway.classification`) gives, for each description, a probability per HS
chapter; an item hits when its declared code's chapter gets less than `below` (a calibrated
threshold, see docs/risk.md) and the description says enough to classify (at least
`min_words` words the classifier knows). The classifier scores the whole batch in one call and
keeps its answers per description, so repeated descriptions cost one look-up. The reason names
the declared code's fit and the suggested codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from clearway.classification.classifier import Fit, Suggestion

BoolArray = npt.NDArray[np.bool_]


class FitScorer(Protocol):
    """What the condition needs from the classifier (`Classifier` implements it)."""

    def fit_many(self, pairs: Sequence[tuple[str, str]]) -> list[Fit]: ...

    def suggest_many(
        self, texts: Sequence[str], destination: str | None = None, k: int = 5
    ) -> list[Suggestion]: ...

    def informative(self, text: str) -> int: ...


FitSource = Callable[[], FitScorer]  # built on first use: loading the model takes a second


def check(
    scorer: FitScorer,
    descriptions: Sequence[Any],
    codes: Sequence[Any],
    below: float,
    min_words: int,
) -> tuple[BoolArray, dict[int, str]]:
    """Rows whose declared code does not fit their description, and a reason detail per row."""
    mask = np.zeros(len(descriptions), dtype=bool)
    known: dict[str, int] = {}  # words the classifier knows, per distinct description

    def informative(text: str) -> int:
        if text not in known:
            known[text] = scorer.informative(text)
        return known[text]

    rows = [
        i
        for i, (d, h) in enumerate(zip(descriptions, codes, strict=True))
        if d and h and len(str(h)) >= 6 and informative(str(d)) >= min_words
    ]
    details: dict[int, str] = {}
    if not rows:
        return mask, details
    # a batch repeats its descriptions and codes: each distinct pair is judged once
    pairs = [(str(descriptions[i]), str(codes[i])) for i in rows]
    distinct = list(dict.fromkeys(pairs))
    fit_of = dict(zip(distinct, scorer.fit_many(distinct), strict=True))
    fits = [fit_of[p] for p in pairs]
    flagged = [(i, f) for i, f in zip(rows, fits, strict=True) if f.chapter_probability < below]
    if not flagged:
        return mask, details
    texts = [str(descriptions[i]) for i, _ in flagged]
    unique = list(dict.fromkeys(texts))
    suggested = dict(zip(unique, scorer.suggest_many(unique, None, 3), strict=True))
    found = [suggested[t] for t in texts]
    for (i, fit), suggestion in zip(flagged, found, strict=True):
        mask[i] = True
        best = ", ".join(f"{c.code} ({c.score:.0%})" for c in suggestion.candidates)
        details[i] = (
            f" (declared {fit.declared}: chapter {fit.declared[:2]} has "
            f"{fit.chapter_probability:.1%} for this description; suggested {best})"
        )
    return mask, details
