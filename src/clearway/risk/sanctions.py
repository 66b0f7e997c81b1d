"""Sanctioned parties: a compact name list and a fuzzy matcher for consignee/seller/consignor names.

The list ships in `risk/data/sanctioned_parties.csv` (see `risk/data/SOURCES.md`); `build_list`
derives it from the official lists. Matching is blocked on 4-letter token prefixes (names must
share the blocks of all their words, or all but one for names of three words or more), then
scored by a sequence ratio over the sorted significant tokens, so word order, punctuation,
legal forms and a typo or two do not hide a listed name. Results are cached per distinct name.
"""

from __future__ import annotations

import csv
import difflib
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from clearway.risk.columns import normalise_name

# Words that say what kind of body a name is, not which one.
NOISE_WORDS = frozenset(
    [
        "THE",
        "OF",
        "AND",
        "FOR",
        "CO",
        "COMPANY",
        "LTD",
        "LIMITED",
        "LLC",
        "INC",
        "CORP",
        "CORPORATION",
        "SA",
        "S",
        "A",
        "AG",
        "GMBH",
        "JSC",
        "OJSC",
        "PJSC",
        "CJSC",
        "OOO",
        "OAO",
        "AO",
        "ZAO",
        "PLC",
        "LLP",
        "LP",
        "BV",
        "NV",
        "SRL",
        "SPA",
        "AB",
        "AS",
        "OY",
        "KG",
        "KFT",
        "SAS",
        "SARL",
        "FZE",
        "FZCO",
        "PTE",
        "PVT",
        "GROUP",
        "HOLDING",
        "HOLDINGS",
        "INTERNATIONAL",
        "TRADING",
        "AL",
        "EL",
    ]
)
_BLOCK = 4


@dataclass(frozen=True, slots=True)
class ListedName:
    name: str
    kind: str  # entity | individual
    source: str  # OFAC-SDN, OFAC-CONS, UN, CA-SEMA
    ref: str


@dataclass(frozen=True, slots=True)
class SanctionsHit:
    name: str
    listed: str
    source: str
    ref: str
    score: float


def significant_tokens(name: str) -> tuple[str, ...]:
    tokens = [t for t in normalise_name(name).split() if t not in NOISE_WORDS and len(t) > 1]
    return tuple(sorted(tokens))


class SanctionsList:
    """Fuzzy lookup of a name among listed names."""

    def __init__(self, names: Iterable[ListedName], *, threshold: float = 0.88) -> None:
        self.threshold = threshold
        self._entries: list[tuple[ListedName, tuple[str, ...], str]] = []
        self._index: dict[str, list[int]] = defaultdict(list)
        for listed in names:
            tokens = significant_tokens(listed.name)
            if not tokens:
                continue
            idx = len(self._entries)
            self._entries.append((listed, tokens, " ".join(tokens)))
            for block in {t[:_BLOCK] for t in tokens}:
                self._index[block].append(idx)
        self._blocks = {b: np.asarray(v, dtype=np.int64) for b, v in self._index.items()}
        self._word_counts = np.asarray([len(e[1]) for e in self._entries], dtype=np.int64)
        self._lengths = np.asarray([len(e[2]) for e in self._entries], dtype=np.int64)
        self.match = lru_cache(maxsize=200_000)(self._match)

    def __len__(self) -> int:
        return len(self._entries)

    def _match(self, name: str) -> SanctionsHit | None:
        tokens = significant_tokens(name)
        if not tokens:
            return None
        blocks = [self._blocks[b] for b in {t[:_BLOCK] for t in tokens} if b in self._blocks]
        if not blocks:
            return None
        ids, shared = np.unique(np.concatenate(blocks), return_counts=True)
        joined = " ".join(tokens)
        size = len(joined)
        threshold = self.threshold
        # the words of both names must share blocks (longer names may differ by one word), and
        # the ratio can never beat 2·min/(sum) of the lengths
        longest = np.maximum(self._word_counts[ids], len(tokens))
        lengths = self._lengths[ids]
        keep = (shared >= longest - (longest >= 3)) & (
            2 * np.minimum(lengths, size) >= threshold * (lengths + size)
        )
        best: SanctionsHit | None = None
        for idx in ids[keep]:
            listed, _, listed_joined = self._entries[int(idx)]
            matcher = difflib.SequenceMatcher(None, joined, listed_joined, autojunk=False)
            if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                continue
            score = matcher.ratio()
            if score >= threshold and (best is None or score > best.score):
                best = SanctionsHit(name, listed.name, listed.source, listed.ref, round(score, 3))
        return best


@cache
def default_list() -> SanctionsList:
    """The shipped compact list."""
    path = resources.files("clearway.risk").joinpath("data", "sanctioned_parties.csv")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return SanctionsList(ListedName(r["name"], r["kind"], r["source"], r["ref"]) for r in rows)


# --- building the compact list from the official files ------------------------------------------


def _ofac_sdn(path: Path) -> Iterator[ListedName]:
    text = path.read_bytes().decode("latin-1").rstrip("\x1a")
    for row in csv.reader(text.splitlines()):
        if len(row) < 3:
            continue
        kind = row[2].strip()
        if kind in ("vessel", "aircraft"):
            continue
        yield ListedName(
            row[1].strip(), "individual" if kind == "individual" else "entity", "OFAC-SDN", row[0]
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ofac_consolidated(path: Path) -> Iterator[ListedName]:
    for entry in ET.parse(path).getroot():
        if _local(entry.tag) != "sdnEntry":
            continue
        fields = {_local(c.tag): (c.text or "").strip() for c in entry}
        kind = fields.get("sdnType", "")
        if kind not in ("Entity", "Individual"):
            continue
        name = " ".join(p for p in (fields.get("firstName", ""), fields.get("lastName", "")) if p)
        yield ListedName(name, kind.lower(), "OFAC-CONS", fields.get("uid", ""))


def _un(path: Path) -> Iterator[ListedName]:
    root = ET.parse(path).getroot()
    for group, kind in (("INDIVIDUALS", "individual"), ("ENTITIES", "entity")):
        section = root.find(group)
        if section is None:
            continue
        for rec in section:
            parts = [
                (rec.findtext(t) or "").strip()
                for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
            ]
            name = " ".join(p for p in parts if p)
            if name:
                yield ListedName(name, kind, "UN", (rec.findtext("REFERENCE_NUMBER") or "").strip())


def _canada(path: Path) -> Iterator[ListedName]:
    for rec in ET.parse(path).getroot():
        entity = (rec.findtext("EntityOrShip") or "").strip()
        ref = f"{(rec.findtext('Schedule') or '').strip()}/{(rec.findtext('Item') or '').strip()}"
        if entity:
            if "(" in entity:  # ships carry their IMO number in brackets; names only here
                entity = entity.split("(")[0].strip()
            yield ListedName(entity, "entity", "CA-SEMA", ref)
            continue
        given = (rec.findtext("GivenName") or "").strip()
        name = f"{given} {(rec.findtext('LastName') or '').strip()}".strip()
        if name:
            yield ListedName(name, "individual", "CA-SEMA", ref)


def build_list(source_dir: Path) -> list[ListedName]:
    """Primary names of entities and individuals from the four official lists, de-duplicated."""
    found: dict[str, ListedName] = {}
    readers = (
        (_ofac_sdn, "ofac_sdn_2024-05-03.csv"),
        (_ofac_consolidated, "ofac_consolidated_nonsdn_2025-03-28.xml"),
        (_un, "un_sc_consolidated_2025-04-19.xml"),
        (_canada, "canada_sema_consolidated_2025.xml"),
    )
    for reader, filename in readers:
        for listed in reader(source_dir / filename):
            key = " ".join(significant_tokens(listed.name))
            if key and key not in found:
                found[key] = listed
    return sorted(found.values(), key=lambda x: (x.source, x.name))


def write_list(names: Iterable[ListedName], out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "kind", "source", "ref"])
        for n in names:
            writer.writerow([n.name, n.kind, n.source, n.ref])
            count += 1
    return count


if __name__ == "__main__":  # python -m clearway.risk.sanctions SOURCE_DIR OUT_CSV
    import sys

    total = write_list(build_list(Path(sys.argv[1])), Path(sys.argv[2]))
    print(f"{total} names written")
