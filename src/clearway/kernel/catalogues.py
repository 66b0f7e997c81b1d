"""Gettext catalogues kept as `.po` files only: read and compiled in memory when first used,
so the `.po` file is the one thing to edit (the pages and the statistics report use it)."""

from __future__ import annotations

import io
from importlib.resources.abc import Traversable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations


def compile_po(po: Traversable, locale: str) -> Translations:
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)
