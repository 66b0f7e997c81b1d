"""Suggest HS codes for a product description: hierarchical retrieval, lexical + embedding.

Every HS 2022 subheading is scored against the description by four signals, added with the
weights of `Weights` (tuned on the ATLAS validation set only, see `evaluation.py`):

- cosine similarity of the description's embedding to the subheading's text, to its heading's
  and to its chapter's (the hierarchy: a subheading under a well-matching heading rises);
- BM25 over the subheading's text, its parents' texts and the national tariff lines under it.

A softmax over the subheadings turns scores into probabilities; a chapter's or heading's
probability is the sum of its subheadings', which is what the consistency check reads. National
8/10-digit lines of the destination are ranked under each suggested subheading by the words they
share with the description. Results are cached per description, and a batch of descriptions is
embedded in one pass.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from clearway.classification import nomenclature as nom
from clearway.classification.encoder import MODEL_NAME, Encoder, one_blas_thread, shared_encoder
from clearway.classification.index_cache import load_or_build
from clearway.classification.lexical import Bm25
from clearway.classification.text import words

F32 = npt.NDArray[np.float32]
NationalLines = Mapping[str, str]  # national tariff code (8/10 digits) → its text
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Weights:
    """How the signals add up (tuned on the ATLAS validation set; see the README)."""

    subheading: float = 1.0
    heading: float = 1.0
    chapter: float = 0.6
    lexical: float = 0.8
    temperature: float = 0.05


@dataclass(frozen=True, slots=True)
class NationalLine:
    code: str
    description: str
    score: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """One suggested subheading with its probability and its path as the explanation."""

    code: str
    score: float
    description: str
    path: list[nom.Node]
    national: list[NationalLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    destination: str | None
    candidates: list[Candidate]
    model: str

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True, slots=True)
class Fit:
    """How well a declared code fits a description: the probability mass of its chapter and
    heading under the classifier, and where its heading ranks."""

    declared: str
    chapter_probability: float
    heading_probability: float
    heading_rank: int  # 1 = the most likely heading


@dataclass(frozen=True, slots=True)
class _Scored:
    top: npt.NDArray[np.int32]  # indices of the best subheadings, best first
    top_p: F32  # their probabilities
    headings: F32  # probability per heading (order of nom.headings())
    chapters: F32  # probability per chapter


class Classifier:
    """HS 2022 suggestions for descriptions, offline on the CPU."""

    def __init__(
        self,
        national: Mapping[str, NationalLines] | None = None,
        *,
        encoder: Encoder | None = None,
        weights: Weights | None = None,
        cache_dir: Path | None = None,
        cache_size: int = 4096,
        progress: Progress | None = None,
    ) -> None:
        self.weights = weights or Weights()
        self._encoder = encoder or shared_encoder()
        self.codes = nom.subheadings()
        self.heading_codes = nom.headings()
        self.chapter_codes = nom.chapters()
        self._national = dict(national or {})
        h_index = {c: i for i, c in enumerate(self.heading_codes)}
        c_index = {c: i for i, c in enumerate(self.chapter_codes)}
        self._h_of = np.array([h_index[c[:4]] for c in self.codes], dtype=np.int32)
        self._c_of = np.array([c_index[c[:2]] for c in self.codes], dtype=np.int32)
        self._lines_by_hs6 = self._group_national()
        self._lexical = Bm25(self._documents())
        emb = load_or_build(
            self._embedding_texts(), self._encoder, cache_dir or default_cache_dir(), progress
        )
        self._emb = emb  # subheadings, then headings, then chapters
        self._n6, self._n4 = len(self.codes), len(self.heading_codes)
        self._cache: OrderedDict[str, _Scored] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # --- corpus ------------------------------------------------------------------------------

    def _group_national(self) -> dict[str, dict[str, list[tuple[str, str]]]]:
        """Per destination: subheading → its national lines (code, text), in code order."""
        out: dict[str, dict[str, list[tuple[str, str]]]] = {}
        by_table: dict[int, dict[str, list[tuple[str, str]]]] = {}
        for country, lines in self._national.items():
            grouped = by_table.get(id(lines))
            if grouped is None:
                grouped = {}
                codes = sorted(lines)
                for n, code in enumerate(codes):
                    if n + 1 < len(codes) and codes[n + 1].startswith(code):
                        continue  # a parent line: its sub-lines are the ones declared
                    grouped.setdefault(code[:6], []).append((code, lines[code]))
                by_table[id(lines)] = grouped
            out[country] = grouped
        return out

    def _documents(self) -> list[list[tuple[str, float]]]:
        tables = {id(t): t for t in self._lines_by_hs6.values()}.values()
        docs: list[list[tuple[str, float]]] = []
        for code in self.codes:
            fields = [
                (nom.description(code), 1.0),
                (nom.description(code[:4]), 0.35),
                (nom.description(code[:2]), 0.15),
            ]
            # each distinct national text once (the EU and UK packs share their CN texts)
            seen: set[str] = set()
            for table in tables:
                fresh = [t for _, t in table.get(code, ()) if t not in seen]
                seen.update(fresh)
                if fresh:
                    fields.append((" ".join(fresh), 0.5))
            docs.append(fields)
        return docs

    def _embedding_texts(self) -> list[str]:
        return (
            [nom.description(c) for c in self.codes]
            + [nom.description(c) for c in self.heading_codes]
            + [nom.description(c) for c in self.chapter_codes]
        )

    # --- scoring -----------------------------------------------------------------------------

    def _score(self, texts: Sequence[str]) -> list[_Scored]:
        keys = [" ".join(t.split()).lower() for t in texts]
        with self._lock:
            found = {k: self._cache[k] for k in set(keys) if k in self._cache}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            vectors = self._encoder.encode(missing)
            with one_blas_thread():
                for key, vec in zip(missing, vectors, strict=True):
                    found[key] = self._score_one(key, vec)
            with self._lock:
                for key in missing:
                    self._cache[key] = found[key]
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            for k in found:
                if k in self._cache:
                    self._cache.move_to_end(k)
        return [found[k] for k in keys]

    def signals(self, text: str, vec: F32) -> F32:
        """The four signals per subheading (rows: subheading, heading and chapter cosine,
        lexical score scaled to the best match) for a description and its embedding."""
        n6, n4 = self._n6, self._n4
        cos = self._emb @ vec
        lex = self._lexical.scores(text)
        top_lex = float(lex.max())
        out: F32 = np.vstack(
            [
                cos[:n6],
                cos[n6 : n6 + n4][self._h_of],
                cos[n6 + n4 :][self._c_of],
                lex / top_lex if top_lex > 0 else lex,
            ]
        ).astype(np.float32)
        return out

    def _score_one(self, text: str, vec: F32) -> _Scored:
        w = self.weights
        parts = self.signals(text, vec)
        s = np.array([w.subheading, w.heading, w.chapter, w.lexical], dtype=np.float32) @ parts
        z = (s - s.max()) / w.temperature
        p = np.exp(z).astype(np.float32)
        p /= p.sum()
        some = np.argpartition(-p, 20)[:20]
        top: npt.NDArray[np.int32] = some[np.argsort(-p[some])].astype(np.int32)
        headings = np.bincount(self._h_of, weights=p, minlength=len(self.heading_codes))
        chapters = np.bincount(self._c_of, weights=p, minlength=len(self.chapter_codes))
        return _Scored(top, p[top], headings.astype(np.float32), chapters.astype(np.float32))

    # --- public ------------------------------------------------------------------------------

    @property
    def model(self) -> str:
        return f"hs2022/{MODEL_NAME}+bm25"

    def clear_cache(self) -> None:
        """Forget the answers kept per description (for measurements)."""
        with self._lock:
            self._cache.clear()

    def destinations(self) -> frozenset[str]:
        """Countries whose national tariff lines are known."""
        return frozenset(self._lines_by_hs6)

    def suggest(self, text: str, destination: str | None = None, k: int = 5) -> Suggestion:
        return self.suggest_many([text], destination, k)[0]

    def suggest_many(
        self, texts: Sequence[str], destination: str | None = None, k: int = 5
    ) -> list[Suggestion]:
        """Top `k` subheadings per description (one embedding pass for the whole batch)."""
        out: list[Suggestion] = []
        for text, scored in zip(texts, self._score(texts), strict=True):
            candidates = []
            for idx, prob in zip(scored.top[:k], scored.top_p[:k], strict=True):
                code = self.codes[int(idx)]
                candidates.append(
                    Candidate(
                        code,
                        round(float(prob), 4),
                        nom.description(code),
                        nom.path(code),
                        self.national_lines(text, code, destination),
                    )
                )
            out.append(Suggestion(text, destination, candidates, self.model))
        return out

    def national_lines(
        self, text: str, hs6: str, destination: str | None, k: int = 3
    ) -> list[NationalLine]:
        """The destination's national lines under `hs6`, best match with the text first."""
        lines = self._lines_by_hs6.get(destination or "", {}).get(hs6, [])
        if not lines:
            return []
        query = set(words(text))
        ranked: list[NationalLine] = []
        for code, line_text in lines:
            shared = query & set(words(line_text))
            # words the line shares with the description; "other" lines win only on a tie
            score = sum(1.0 for w in shared if self._lexical.knows(w))
            score -= 0.01 * ("other" in line_text.lower().split(" › ")[-1])
            ranked.append(NationalLine(code, line_text, score))
        ranked.sort(key=lambda n: -n.score)
        best = ranked[:k]
        total = sum(max(n.score, 0.0) for n in best) or 1.0
        return [
            NationalLine(n.code, n.description, round(max(n.score, 0) / total, 3)) for n in best
        ]

    def informative(self, text: str) -> int:
        """How many distinct words of the text the nomenclature and tariff texts know: under two,
        a description says too little to judge a declared code by."""
        return sum(1 for w in set(words(text)) if self._lexical.knows(w))

    def fit(self, text: str, declared: str) -> Fit:
        return self.fit_many([(text, declared)])[0]

    def fit_many(self, pairs: Sequence[tuple[str, str]]) -> list[Fit]:
        """How well each declared code fits its description (one pass for the batch)."""
        scored = self._score([t for t, _ in pairs])
        h_index = {c: i for i, c in enumerate(self.heading_codes)}
        c_index = {c: i for i, c in enumerate(self.chapter_codes)}
        out: list[Fit] = []
        for (_, code), s in zip(pairs, scored, strict=True):
            h = h_index.get(code[:4])
            c = c_index.get(code[:2])
            hp = float(s.headings[h]) if h is not None else 0.0
            cp = float(s.chapters[c]) if c is not None else 0.0
            rank = int((s.headings > hp).sum()) + 1
            out.append(Fit(code, round(cp, 6), round(hp, 6), rank))
        return out


def default_cache_dir() -> Path:
    """`CLEARWAY_CACHE_DIR`, else `$XDG_CACHE_HOME/clearway`, else `~/.cache/clearway`."""
    explicit = os.environ.get("CLEARWAY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clearway"
