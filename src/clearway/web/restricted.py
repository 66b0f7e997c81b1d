"""Restricted and prohibited goods, for the public lookup, from the data that drives the engine:
risk profiles that stop goods (weapons, dangerous goods, dual-use…) and the Single Window
routing rules (goods another agency must clear).

People search in their own words: `restricted_terms.yaml` gives each restriction the words
shoppers use in English and French and its reason in French; a search matches those words
(accents, case and a plural -s ignored), the rule's own pattern, its reason, or an HS code.

A risk profile counts as a goods restriction when it forces a lane or a referral and its
conditions are only about the goods (item description keywords or HS code prefixes); profiles
about values, parties or misdeclaration are targeting rules, not restrictions, and stay private.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from clearway.kernel.codes import normalise_hs
from clearway.storage.agency_routing import Routing

_GOODS_FIELDS = {"item.description", "item.hs_code"}


@dataclass(frozen=True, slots=True)
class Restriction:
    id: str
    kind: str  # "stopped" (risk profile) or "agency" (another agency clears it)
    who: str  # owner unit or agency name
    reason: str
    prefixes: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    examples: tuple[str, ...]  # readable keywords
    reference: str | None = None
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> words
    reasons: dict[str, str] = field(default_factory=dict)  # language -> reason

    def reason_in(self, lang: str) -> str:
        return self.reasons.get(lang, self.reason)

    def examples_in(self, lang: str) -> tuple[str, ...]:
        return self.words.get(lang, ())[:8] or self.examples

    def matches(self, query: str) -> bool:
        code = normalise_hs(query)
        if code.isdigit() and len(code) >= 2:
            return any(code.startswith(p) or p.startswith(code) for p in self.prefixes)
        q = plain(query)
        if len(q) < 3:
            return False
        singular = q[:-1] if q.endswith(("s", "x")) and len(q) > 3 else q
        for words in self.words.values():
            for w in words:
                term = plain(w)
                if re.search(rf"\b({re.escape(q)}|{re.escape(singular)})s?\b", term):
                    return True
                if re.search(rf"\b{re.escape(term)}s?\b", q):
                    return True
        return any(p.search(query) for p in self.patterns) or q in plain(self.reason)


def plain(text: str) -> str:
    """Lower case without accents or punctuation: the form searches compare."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("œ", "oe"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", bare.replace("’", "'")).split())


def _conditions(spec: Any, out: list[dict[str, Any]], negated: bool = False) -> None:
    if isinstance(spec, list):
        for s in spec:
            _conditions(s, out, negated)
    elif isinstance(spec, dict):
        if "any" in spec:
            _conditions(spec["any"], out, negated)
        elif "not" in spec:
            _conditions(spec["not"], out, True)
        else:
            out.append({**spec, "_negated": negated})


def _keywords(pattern: str) -> tuple[str, ...]:
    """A few readable words out of a profile's regex (used when the terms file has none):
    only alternatives that are plain words, never regex debris."""
    words = [w.strip() for w in re.sub(r"\\b|\(\?:|[()^$]", "|", pattern).split("|")]
    return tuple(w for w in words if re.fullmatch(r"[a-z][a-z ]{2,30}", w))[:8]


def from_profiles(documents: list[tuple[str, dict[str, Any]]]) -> list[Restriction]:
    out = []
    for _source, data in documents:
        for raw in data.get("profiles") or []:
            if not (raw.get("lane") or raw.get("referral")):
                continue
            conds: list[dict[str, Any]] = []
            _conditions(raw.get("when"), conds)
            if not conds or any(
                c.get("field") not in _GOODS_FIELDS
                or c["_negated"]
                or not ({"regex", "hs_prefix"} & c.keys())
                or str(c.get("regex", "")).startswith("^")
                for c in conds
            ):
                continue
            regexes = [str(c["regex"]) for c in conds if "regex" in c]
            prefixes = tuple(str(p) for c in conds for p in (c.get("hs_prefix") or []))
            out.append(
                Restriction(
                    str(raw["id"]),
                    "stopped",
                    str(raw.get("owner", "")),
                    str(raw.get("reason", "")).strip(),
                    prefixes,
                    tuple(re.compile(r, re.IGNORECASE) for r in regexes),
                    tuple(k for r in regexes for k in _keywords(r)),
                )
            )
    return out


def from_routing(routing: Routing) -> list[Restriction]:
    return [
        Restriction(
            r.id,
            "agency",
            routing.agencies.get(r.agency, r.agency),
            r.reason,
            r.prefixes,
            (r.pattern,) if r.pattern is not None else (),
            r.keywords,
            r.reference,
        )
        for r in routing.rules
    ]


@lru_cache(maxsize=1)
def shipped_profiles() -> list[tuple[str, dict[str, Any]]]:
    folder = resources.files("clearway.risk").joinpath("profiles")
    docs = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            docs.append((entry.name, yaml.safe_load(entry.read_text("utf-8")) or {}))
    return docs


@lru_cache(maxsize=1)
def terms() -> dict[str, dict[str, Any]]:
    raw = resources.files("clearway.web").joinpath("restricted_terms.yaml").read_text("utf-8")
    return yaml.safe_load(raw) or {}


def _with_terms(r: Restriction) -> Restriction:
    t = terms().get(r.id) or {}
    words = {
        "en": tuple(str(w) for w in t.get("en_words") or ()),
        "fr": tuple(str(w) for w in t.get("fr_words") or ()),
    }
    reasons = {"en": r.reason, **({"fr": str(t["fr"])} if t.get("fr") else {})}
    return Restriction(
        r.id,
        r.kind,
        r.who,
        r.reason,
        r.prefixes,
        r.patterns,
        r.examples,
        r.reference,
        words,
        reasons,
    )


def catalogue(routing: Routing) -> list[Restriction]:
    return [_with_terms(r) for r in from_profiles(shipped_profiles()) + from_routing(routing)]


def lookup(query: str, routing: Routing) -> list[Restriction]:
    return [r for r in catalogue(routing) if r.matches(query)]
