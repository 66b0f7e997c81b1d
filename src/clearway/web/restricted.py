"""Restricted and prohibited goods, for the public lookup, from the data that drives the engine:
risk profiles that stop goods (weapons, dangerous goods, dual-use…) and the Single Window
routing rules (goods another agency must clear).

A risk profile counts as a goods restriction when it forces a lane or a referral and its
conditions are only about the goods (item description keywords or HS code prefixes); profiles
about values, parties or misdeclaration are targeting rules, not restrictions, and stay private.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from clearway.kernel.codes import normalise_hs
from clearway.storage.web_repository import Routing

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

    def matches(self, query: str) -> bool:
        code = normalise_hs(query)
        if code.isdigit() and len(code) >= 2:
            return any(code.startswith(p) or p.startswith(code) for p in self.prefixes)
        q = query.strip().lower()
        if len(q) < 3:
            return False
        return any(p.search(q) for p in self.patterns) or q in self.reason.lower()


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
    """A few readable words out of a profile's regex, for the page."""
    text = re.sub(r"\\b|\(\?:|[()?^$\\]", " ", pattern)
    words = [w.strip(" .*+") for w in text.split("|")]
    return tuple(w for w in words if re.fullmatch(r"[a-z][a-z \-]{2,30}", w))[:8]


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


def catalogue(routing: Routing) -> list[Restriction]:
    return from_profiles(shipped_profiles()) + from_routing(routing)


def lookup(query: str, routing: Routing) -> list[Restriction]:
    return [r for r in catalogue(routing) if r.matches(query)]
