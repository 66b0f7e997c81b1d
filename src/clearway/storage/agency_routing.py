"""Single Window routing: which partner agency sees a consignment, by HS code or keyword.

The rules live in `agency_routing.yaml` (each with its agency, reason, legal reference and the
dates it is in force) and are read at the consignment's legal date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class RoutingRule:
    id: str
    agency: str
    reason: str
    valid_from: date
    valid_until: date | None
    prefixes: tuple[str, ...]
    keywords: tuple[str, ...]
    reference: str
    pattern: re.Pattern[str] | None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)

    def match(self, description: str, hs_code: str | None) -> str | None:
        """What matched in one item, or None."""
        code = (hs_code or "").replace(".", "")
        for p in self.prefixes:
            if code.startswith(p):
                return f"HS {p}"
        if self.pattern is not None:
            found = self.pattern.search(description)
            if found:
                return f"keyword '{found.group(0).lower()}'"
        return None


@dataclass(frozen=True)
class Routing:
    agencies: Mapping[str, str]  # code -> name
    rules: tuple[RoutingRule, ...]
    sees_amounts: frozenset[str] = frozenset()  # agencies whose mandate includes amounts
    notify_only: frozenset[str] = frozenset()  # `at_arrival: notify`: seen, not held for
    # `timeout_hours`: an arrival hold the agency has not answered in that time is lifted
    timeouts: Mapping[str, int] = field(default_factory=dict)

    def route(self, legal_date: date, items: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
        """Agency -> (rule id, what matched) for one consignment's items."""
        out: dict[str, Any] = {}
        listed = list(items)
        for rule in self.rules:
            if rule.agency in out or not rule.in_force(legal_date):
                continue
            for description, hs_code in listed:
                matched = rule.match(description, hs_code)
                if matched:
                    out[rule.agency] = (rule.id, matched)
                    break
        return out


class RoutingError(ValueError):
    """The routing file is malformed; the message names the rule."""


def parse_routing(data: Mapping[str, Any], source: str = "agency_routing.yaml") -> Routing:
    agencies = {
        str(k): str((v or {}).get("name", k)) for k, v in (data.get("agencies") or {}).items()
    }
    sees_amounts = frozenset(
        str(k) for k, v in (data.get("agencies") or {}).items() if (v or {}).get("sees_amounts")
    )
    notify_only = frozenset(
        str(k)
        for k, v in (data.get("agencies") or {}).items()
        if (v or {}).get("at_arrival", "hold") == "notify"
    )
    timeouts: dict[str, int] = {}
    for k, v in (data.get("agencies") or {}).items():
        hours = (v or {}).get("timeout_hours")
        if hours is not None:
            if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
                raise RoutingError(f"{source}: agency {k}: timeout_hours is a whole number >= 1")
            timeouts[str(k)] = hours
    rules: list[RoutingRule] = []
    for raw in data.get("rules") or []:
        rid = str(raw.get("id") or "?")
        where = f"{source}: rule {rid}"
        for key in ("id", "agency", "reason", "from", "reference"):
            if key not in raw:
                raise RoutingError(f"{where}: missing {key}")
        if raw["agency"] not in agencies:
            raise RoutingError(f"{where}: unknown agency {raw['agency']!r}")
        prefixes = tuple(str(c) for c in (raw.get("chapters") or [])) + tuple(
            str(h) for h in (raw.get("headings") or [])
        )
        if any(not p.isdigit() for p in prefixes):
            raise RoutingError(f"{where}: chapters and headings are digits")
        keywords = tuple(str(k).lower() for k in (raw.get("keywords") or []))
        if not prefixes and not keywords:
            raise RoutingError(f"{where}: needs chapters, headings or keywords")
        try:
            start = date.fromisoformat(str(raw["from"]))
            until = date.fromisoformat(str(raw["until"])) if raw.get("until") else None
        except ValueError as exc:
            raise RoutingError(f"{where}: bad date: {exc}") from None
        if until is not None and until <= start:
            raise RoutingError(f"{where}: until must be after from")
        pattern = (
            re.compile(r"\b(" + "|".join(re.escape(k) for k in keywords) + r")\b", re.IGNORECASE)
            if keywords
            else None
        )
        rules.append(
            RoutingRule(
                rid,
                str(raw["agency"]),
                str(raw["reason"]),
                start,
                until,
                prefixes,
                keywords,
                str(raw["reference"]),
                pattern,
            )
        )
    return Routing(agencies, tuple(rules), sees_amounts, notify_only, timeouts)


def default_routing() -> Routing:
    raw = resources.files("clearway.storage").joinpath("agency_routing.yaml").read_text("utf-8")
    return parse_routing(yaml.safe_load(raw) or {})
