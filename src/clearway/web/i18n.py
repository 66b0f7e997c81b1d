"""Languages of the pages (Babel catalogues): English source strings, French translation.

The English catalogue only names the message ids that templates build from data keys.

Catalogues are `locale/<lang>/LC_MESSAGES/messages.po`, compiled in memory on first use so the
`.po` file is the one thing to edit. The language comes from the `lang` cookie (set by the
language links), else the browser's Accept-Language, else English.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources

from clearway.kernel.catalogues import compile_po

LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT = "en"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang not in LANGUAGES:
        lang = DEFAULT
    po = resources.files("clearway.web").joinpath(f"locale/{lang}/LC_MESSAGES/messages.po")
    return compile_po(po, lang)


def pick(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie if it names a known language, else the first known one
    in Accept-Language, else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT


def dynamic_messages() -> set[str]:
    """Message ids that templates build from data (`_("param_" ~ name)`, `label("status", …)`),
    which extraction cannot see; both catalogues must translate them (English too: they are
    keys, not text)."""
    from clearway.storage.web_repository import SORTS
    from clearway.web import guidance, labels
    from clearway.web.law import SECTIONS

    out = set(labels.CATEGORIES)
    out |= {f"collection_{m}" for m in labels.COLLECTION_MODELS}
    out |= {f"payable_by_{p}" for p in labels.PAYERS}
    out |= {f"section_{s}" for s in SECTIONS}
    out |= {f"param_{n}" for names in SECTIONS.values() for n in names}
    out |= {f"sort_{s}" for s in SORTS}
    out |= {f"by_{c}" for c in ("status", "lane", "destination_country", "payment_status")}
    out |= {f"action_{a}" for a in labels.PAGE_ACTIONS}
    out |= labels.keys()
    out |= set(guidance.KEYS)
    return out


def translated_data() -> set[str]:
    """Keys for texts that ship in English in data files and that other languages translate:
    each shipped risk profile's reason (`profile_<ID>`) and owner (`owner_<owner>`), each
    Single Window agency's name (`agency_<code>`) and each jurisdiction pack's name
    (`pack_<code>`). English pages show the data's own text, so
    only the other catalogues need them."""
    from clearway.revenue.assessor import PackAssessor
    from clearway.risk.profiles import default_profiles
    from clearway.storage.agency_routing import default_routing

    profiles = default_profiles().profiles
    out = {f"profile_{p.id}" for p in profiles} | {f"owner_{p.owner}" for p in profiles}
    out |= {f"pack_{p.code}" for p in PackAssessor.load_default().packs.values()}
    return out | {f"agency_{code}" for code in default_routing().agencies}
