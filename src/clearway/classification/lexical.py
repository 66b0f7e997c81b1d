"""BM25 over fielded documents: each document is a few texts with their own weights.

A subheading's document is its own text (weight 1), its heading's and chapter's texts (lower
weights: they describe the neighbours too) and the national tariff lines under it (the words
customs officers use for the goods, e.g. "anoraks", "windbreakers"). Postings are NumPy arrays,
so a query costs one vector addition per query word.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from clearway.classification.text import words

F32 = npt.NDArray[np.float32]


class Bm25:
    """Okapi BM25 (k1, b) over weighted term frequencies."""

    def __init__(
        self, documents: Sequence[Sequence[tuple[str, float]]], k1: float = 1.2, b: float = 0.6
    ) -> None:
        self.size = len(documents)
        tfs: list[dict[str, float]] = []
        for fields in documents:
            tf: dict[str, float] = defaultdict(float)
            for text, weight in fields:
                seen = Counter(words(text))
                for w, n in seen.items():
                    # saturate repeats inside a field: a long national list says "other" 40 times
                    tf[w] += weight * (1.0 + math.log(n))
            tfs.append(tf)
        lengths = np.array([sum(tf.values()) for tf in tfs], dtype=np.float32)
        avg = float(lengths.mean()) if self.size else 1.0
        df: Counter[str] = Counter()
        for tf in tfs:
            df.update(tf.keys())
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc, tf in enumerate(tfs):
            norm = k1 * (1.0 - b + b * float(lengths[doc]) / avg)
            for w, f in tf.items():
                idf = math.log(1.0 + (self.size - df[w] + 0.5) / (df[w] + 0.5))
                ids, ws = postings.setdefault(w, ([], []))
                ids.append(doc)
                ws.append(idf * f * (k1 + 1.0) / (f + norm))
        self._postings = {
            w: (np.array(ids, dtype=np.int32), np.array(ws, dtype=np.float32))
            for w, (ids, ws) in postings.items()
        }

    def knows(self, word: str) -> bool:
        return word in self._postings

    def scores(self, query: str) -> F32:
        """BM25 score of every document for the query (0 where no word matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for w in set(words(query)):
            hit = self._postings.get(w)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out
