"""The HS 2022 tree: sections, chapters (2 digits), headings (4) and subheadings (6).

Codes and texts come from `kernel.codes.hs_nomenclature`; the 21 sections and the chapters they
span from `data/hs_sections.csv` (see `data/SOURCES.md`). A code's *path* — section, chapter,
heading, subheading — is the explanation every suggestion carries.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from clearway.kernel.codes import hs_nomenclature


@dataclass(frozen=True, slots=True)
class Node:
    """One level of a code's path."""

    level: str  # section | chapter | heading | subheading
    code: str  # "XI", "62", "6201", "620140"
    description: str


@dataclass(frozen=True, slots=True)
class Section:
    roman: str
    first: int
    last: int
    name: str


@cache
def sections() -> tuple[Section, ...]:
    with (
        resources.files("clearway.classification")
        .joinpath("data", "hs_sections.csv")
        .open(encoding="utf-8") as f
    ):
        return tuple(
            Section(r["section"], int(r["first_chapter"]), int(r["last_chapter"]), r["name"])
            for r in csv.DictReader(f)
        )


def section_of(chapter: str) -> Section | None:
    number = int(chapter[:2])
    return next((s for s in sections() if s.first <= number <= s.last), None)


@cache
def subheadings() -> tuple[str, ...]:
    """Every HS 2022 subheading (6 digits), in code order."""
    return tuple(sorted(c for c, e in hs_nomenclature().items() if e.level == 6))


@cache
def headings() -> tuple[str, ...]:
    return tuple(sorted(c for c, e in hs_nomenclature().items() if e.level == 4))


@cache
def chapters() -> tuple[str, ...]:
    return tuple(sorted(c for c, e in hs_nomenclature().items() if e.level == 2))


def description(code: str) -> str:
    entry = hs_nomenclature().get(code)
    return entry.description if entry else ""


def path(code: str) -> list[Node]:
    """Section → chapter → heading → subheading of an HS code (6 digits or more)."""
    out: list[Node] = []
    section = section_of(code[:2])
    if section is not None:
        out.append(Node("section", section.roman, section.name))
    for size, level in ((2, "chapter"), (4, "heading"), (6, "subheading")):
        if len(code) >= size and code[:size] in hs_nomenclature():
            out.append(Node(level, code[:size], description(code[:size])))
    return out


def path_text(code: str) -> str:
    """The path as one line: `XI Textiles… › 62 Articles of apparel… › 6201 … › 620140 …`."""
    return " › ".join(f"{n.code} {n.description}" for n in path(code))
