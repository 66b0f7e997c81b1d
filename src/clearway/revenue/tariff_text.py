"""National tariff texts: what each 8/10-digit line of a pack's tariff covers, in words.

A pack may ship `tariff_text.csv` (`code,description`, written by `derive_text.py`) beside its
`pack.yaml`. The classifier reads these texts through `national_texts` — never by path — to
rank the destination's national lines under a suggested subheading and to learn the words
customs uses for goods ("anoraks", "windbreakers").
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from clearway.revenue.packs import Pack, PackError

TEXT_FILE = "tariff_text.csv"


@cache
def load_tariff_text(path: Path) -> Mapping[str, str]:
    """Lines of one text file; a malformed file is a `PackError` naming the line."""
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["code", "description"]:
            raise PackError(path, 1, "a tariff text file has the columns code,description")
        for row in reader:
            code = row["code"]
            if not code.isdigit() or len(code) not in (8, 10):
                raise PackError(path, reader.line_num, f"not a national tariff line: {code!r}")
            out[code] = row["description"]
    return out


def national_texts(packs: Mapping[str, Pack]) -> dict[str, Mapping[str, str]]:
    """Destination country → its pack's national line texts (countries of one pack share one
    mapping). Packs without a text file are left out."""
    out: dict[str, Mapping[str, str]] = {}
    for pack in packs.values():
        path = pack.folder / TEXT_FILE
        if path.is_file():
            lines = load_tariff_text(path)
            for country in pack.countries:
                out[country] = lines
    return out
