"""Derive the national tariff texts shipped beside the packs' tariffs (`tariff_text.csv`).

Run once when a source changes: `python -m clearway.revenue.derive_text /path/to/shared/data`.
Each row is `code,description`: a national tariff line (8 or 10 digits) and its text. The US
schedule is a tree of indented rows where a line's own text is often just "Other" or "Men's",
so a US line's text is the chain of its ancestors below the heading joined with ` › `
("Of cotton › Anoraks… › Water resistant"). The UK Global Tariff file gives each CN line one
self-contained text; it describes the EU Combined Nomenclature lines of the EU pack as well.
Nothing imports this module at run time.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SEP = " › "
_CATEGORY = re.compile(r"\s*\(\d{3}\)\s*$")  # US textile category numbers: "Men's (434)"


def _clean(text: str) -> str:
    return _CATEGORY.sub("", " ".join(text.split())).rstrip(":").strip()


def us_lines(source: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    chain: list[tuple[int, str]] = []  # (indent, text) of the open ancestors
    with source.open(encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            indent = int(r["Indent"] or 0)
            code = r["HTS Number"].replace(".", "")
            if code[:2] in ("98", "99"):
                continue
            while chain and chain[-1][0] >= indent:
                chain.pop()
            text = _clean(r["Description"])
            chain.append((indent, text))
            if len(code) in (8, 10) and indent > 0:
                parts = [t for i, t in chain if i > 0 and t]
                rows.append((code, SEP.join(parts)))
    return rows


def uk_lines(source: Path) -> list[tuple[str, str]]:
    with source.open(encoding="utf-8-sig") as f:
        return [
            (r["commodity"], _clean(r["description"]))
            for r in csv.DictReader(f)
            if len(r["commodity"]) in (8, 10)
        ]


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "description"])
        w.writerows(sorted(rows))


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else HERE.parents[3] / ".." / "shared" / "data"
    schedules = shared / "tariff_schedules"
    _write(
        HERE / "packs/us/tariff_text.csv", us_lines(schedules / "us_hts/hts_2026_revision_4.csv")
    )
    uk = uk_lines(schedules / "uk_global_tariff/global-uk-tariff_2021.csv")
    _write(HERE / "packs/gb/tariff_text.csv", uk)
    _write(HERE / "packs/eu/tariff_text.csv", uk)


if __name__ == "__main__":
    main(sys.argv)
