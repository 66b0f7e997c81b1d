"""Accuracy of the classifier on labelled descriptions: top-1 and top-5 at 2, 4, 6, 10 digits.

Readers for the labelled sets in `../shared/data/hs_labelled/` (their SOURCES.md):
- ATLAS CROSS rulings (chat JSON Lines: "What is the HTS US Code for …?" → "HTS US Code ->
  7307.19.9060"; some rows list several codes with `;`, any of them counts);
- HSCodeComp (product title, attributes and platform categories → a 10-digit US HTS code);
- a plain JSON Lines file of `{"description": …, "code": …}`.

The k-th prediction at 10 digits is the destination's best national line under the k-th
subheading. A label shorter than 10 digits (8-digit rulings) is compared on its own length.
Latency is per description, one call at a time, on descriptions not seen before.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clearway.classification.classifier import Classifier, Suggestion
from clearway.kernel.codes import hs_nomenclature

LEVELS = (2, 4, 6, 10)
_ATLAS_QUESTION = re.compile(r"^What is the HTS US Code for\s*(.*?)\??\s*$", re.S)
_ATLAS_ANSWER = re.compile(r"HTS US Code\s*->\s*([0-9.;\s]+)")


@dataclass(frozen=True, slots=True)
class Example:
    description: str
    codes: tuple[str, ...]  # acceptable answers, digits only


class UnreadableData(ValueError):
    """A labelled file that is none of the known layouts."""


def _digits(code: str) -> str:
    return re.sub(r"\D", "", code)


def parse_row(row: dict[str, object]) -> Example:
    """One labelled row of any known layout."""
    if "messages" in row:
        messages = row["messages"]
        if not isinstance(messages, list) or len(messages) < 2:
            raise UnreadableData("a chat row needs a question and an answer")
        question = str(messages[0].get("content", ""))
        answer = str(messages[1].get("content", ""))
        q = _ATLAS_QUESTION.match(question.strip())
        a = _ATLAS_ANSWER.search(answer)
        if not q or not a:
            raise UnreadableData("not an 'HTS US Code' question and answer")
        codes = tuple(d for d in (_digits(c) for c in a.group(1).split(";")) if len(d) >= 6)
        return Example(q.group(1).strip(), codes)
    if "product_name" in row and "hs_code" in row:
        return Example(_product_text(row), (str(row["hs_code"]).zfill(10),))
    if "description" in row and "code" in row:
        return Example(str(row["description"]), (_digits(str(row["code"])),))
    raise UnreadableData("rows are ATLAS chat rows, HSCodeComp rows or {description, code} objects")


def _product_text(row: dict[str, object]) -> str:
    """An e-commerce listing as one description: title, category path and material."""
    parts = [str(row.get("product_name", ""))]
    cats: list[str] = []
    for level in range(1, 6):
        cat = str(row.get(f"cate_lv{level}_desc") or "").strip()
        if cat and cat not in cats:
            cats.append(cat)
    if cats:
        parts.append("Category: " + " > ".join(cats))
    try:
        attrs = json.loads(str(row.get("product_attributes") or "{}"))
    except json.JSONDecodeError:
        attrs = {}
    if isinstance(attrs, dict):
        for key in ("Material", "Metals Type", "Main Material", "Fabric Type"):
            if attrs.get(key):
                parts.append(f"{key}: {attrs[key]}")
    return ". ".join(p for p in parts if p)


def read_examples(path: Path) -> list[Example]:
    out: list[Example] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(parse_row(json.loads(line)))
            except (json.JSONDecodeError, UnreadableData, AttributeError) as exc:
                raise UnreadableData(f"{path}:{n}: {exc}") from None
    if not out:
        raise UnreadableData(f"{path}: no labelled rows")
    return out


def predictions(s: Suggestion, level: int) -> list[str]:
    """The ranked predictions of a suggestion at `level` digits."""
    if level <= 6:
        return [c.code[:level] for c in s.candidates]
    return [c.national[0].code if c.national else c.code for c in s.candidates]


def _hit(preds: Sequence[str], codes: Iterable[str], level: int) -> bool:
    for code in codes:
        size = min(level, len(code))
        if any(p[:size] == code[:size] and len(p) >= size for p in preds):
            return True
    return False


def evaluate(
    classifier: Classifier,
    examples: Sequence[Example],
    destination: str = "US",
    name: str = "",
) -> dict[str, object]:
    """Accuracy per level (top-1, top-5) and latency per description."""
    hits = {(level, k): 0 for level in LEVELS for k in (1, 5)}
    times: list[float] = []
    for ex in examples:
        start = time.perf_counter()
        s = classifier.suggest(ex.description, destination, k=5)
        times.append(time.perf_counter() - start)
        for level in LEVELS:
            preds = predictions(s, level)
            for k in (1, 5):
                hits[(level, k)] += _hit(preds[:k], ex.codes, level)
    n = len(examples)
    known = hs_nomenclature()
    return {
        "data": name,
        "examples": n,
        "labels_not_in_hs2022": sum(
            1 for ex in examples if all(c[:6] not in known for c in ex.codes)
        ),
        "destination": destination,
        "model": classifier.model,
        "accuracy": {
            f"{level}": {f"top{k}": round(hits[(level, k)] / n, 4) for k in (1, 5)}
            for level in LEVELS
        },
        "latency_ms": {
            "mean": round(statistics.fmean(times) * 1000, 2),
            "p50": round(statistics.median(times) * 1000, 2),
            "p95": round(sorted(times)[int(0.95 * (n - 1))] * 1000, 2),
        },
    }
