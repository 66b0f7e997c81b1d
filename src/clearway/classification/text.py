"""Words of product descriptions and tariff texts, normalised the same way for both.

Lower case, accents stripped, split on anything that is not a letter or digit, a few endings
folded (jackets → jacket, batteries → battery, boxes → box) so that plural titles meet singular
tariff texts, and the words that tell nothing about goods (of, other, n.e.s., whether…) dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "including",
        "into",
        "is",
        "it",
        "its",
        "not",
        "of",
        "on",
        "or",
        "other",
        "others",
        "than",
        "that",
        "the",
        "their",
        "them",
        "these",
        "this",
        "those",
        "thereof",
        "to",
        "under",
        "used",
        "was",
        "were",
        "whether",
        "which",
        "with",
        "without",
        "nes",
        "n",
        "e",
        "s",
        "kind",
        "kinds",
        "type",
        "types",
        "article",
        "articles",
        "product",
        "products",
        "new",
        "hot",
        "sale",
        "free",
        "shipping",
        "pcs",
        "pc",
        "set",
        "lot",
        "high",
        "quality",
        "style",
        "fashion",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "0",
        "nesoi",
        "excluding",
        "except",
        "also",
        "such",
        "same",
        "like",
        "so",
        "more",
        "most",
        "less",
    ]
)


def fold(text: str) -> str:
    """Lower case without accents (é → e); CJK characters are kept."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English stemmer: plural and a few derivational endings."""
    if len(word) <= 3 or not word.isascii():
        return word
    for ending, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
    ):
        if word.endswith(ending):
            return word[: -len(ending)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Stemmed content words of a text, in order (repeats kept)."""
    out: list[str] = []
    for w in _WORD.findall(fold(text)):
        if _CJK.search(w):
            # Chinese and Japanese have no spaces: each character is a word (no segmenter)
            out.extend(ch for ch in w if not ch.isdigit())
        elif w not in STOPWORDS and not w.isdigit():
            out.append(stem(w))
    return out
