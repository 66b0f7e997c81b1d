"""Every page string has a French translation, and every data-built key an English text."""

from __future__ import annotations

from importlib import resources

from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from clearway.web import i18n


def _catalogue(lang: str) -> dict[str, str]:
    po = resources.files("clearway.web").joinpath(f"locale/{lang}/LC_MESSAGES/messages.po")
    with po.open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f) if m.id}


def _template_messages() -> set[str]:
    out: set[str] = set()
    folder = resources.files("clearway.web").joinpath("templates")
    for entry in folder.iterdir():
        if entry.name.endswith(".html"):
            with entry.open("rb") as f:
                out |= {m for _, _, m, _ in babel_extract(f, ("_",), [], {}) if isinstance(m, str)}
    return out


def test_french_translates_every_message() -> None:
    fr = _catalogue("fr")
    wanted = _template_messages() | i18n.dynamic_messages()
    assert len(wanted) > 150
    missing = sorted(m for m in wanted if not fr.get(m))
    assert not missing, missing


def test_english_names_every_data_built_key() -> None:
    en = _catalogue("en")
    missing = sorted(m for m in i18n.dynamic_messages() if not en.get(m))
    assert not missing, missing


def test_language_choice() -> None:
    assert i18n.pick("fr", "en") == "fr"
    assert i18n.pick(None, "de-DE,fr;q=0.8") == "fr"
    assert i18n.pick("xx", None) == "en"
