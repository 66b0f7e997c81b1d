"""Text rules that depend on the writing system: how long a goods description must be.

The rules are data (`data/text_rules.yaml`): a description containing a Chinese, Japanese or
Korean character is measured against the CJK minimum, any other against the Latin one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True, slots=True)
class TextRules:
    min_length: dict[str, int]
    max_length: int
    ranges: dict[str, tuple[tuple[int, int], ...]]


@cache
def rules() -> TextRules:
    raw = yaml.safe_load(
        resources.files("clearway.domain").joinpath("data", "text_rules.yaml").read_text("utf-8")
    )
    desc = raw["description"]
    return TextRules(
        {str(k): int(v) for k, v in desc["min_length"].items()},
        int(desc["max_length"]),
        {
            str(name): tuple((int(lo), int(hi)) for lo, hi in spans)
            for name, spans in raw["scripts"].items()
        },
    )


def script_of(text: str) -> str:
    """`cjk` when the text has a CJK character, else `latin` (the default class)."""
    spans = rules().ranges
    for ch in text:
        point = ord(ch)
        if point < 0x1100:
            continue
        for name, ranges in spans.items():
            if any(lo <= point <= hi for lo, hi in ranges):
                return name
    return "latin"


def description_length_problem(description: str) -> str | None:
    """Why a (trimmed) description's length is refused, or None."""
    r = rules()
    script = script_of(description)
    low = r.min_length.get(script, r.min_length["latin"])
    if len(description) < low or len(description) > r.max_length:
        where = " for CJK text" if script == "cjk" else ""
        return f"must be {low} to {r.max_length} characters{where}"
    return None


def too_short(description: str) -> bool:
    """Is a (trimmed) description shorter than its script's minimum (奶粉 is not; "ab" is)?"""
    r = rules()
    text = description.strip()
    return len(text) < r.min_length.get(script_of(text), r.min_length["latin"])
