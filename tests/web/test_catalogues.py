"""Every page string has a French translation, and every data-built key an English text."""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

import clearway
from clearway.domain.decision import Reason
from clearway.kernel.errors import Problem
from clearway.risk.profiles import default_profiles
from clearway.web import i18n, labels


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


def test_french_translates_every_shipped_risk_profile_reason() -> None:
    fr = _catalogue("fr")
    wanted = i18n.translated_data()
    assert len(wanted) >= 20
    missing = sorted(m for m in wanted if not fr.get(m))
    assert not missing, missing


# Modules whose refusals and findings the pages show (as form problems or decision reasons).
_SHOWN = (
    "web",
    "storage/web_repository.py",
    "storage/profile_versions.py",
    "clearance",
    "matching",
    "domain/validation.py",
    "domain/structural.py",
    "risk/referral.py",
)


def _literal_codes() -> dict[str, str]:
    """Every literal problem code in those modules: `Problem(path, code, …)`, the matching
    checks' `_warn(path, code, …)` and `MissingData(code, …)`."""
    root = Path(clearway.__file__).parent
    files: list[Path] = []
    for part in _SHOWN:
        target = root / part
        files += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    out: dict[str, str] = {}
    for file in files:
        for node in ast.walk(ast.parse(file.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            arg = {"Problem": 1, "_warn": 1, "MissingData": 0}.get(str(name))
            if arg is None or len(node.args) <= arg:
                continue
            code = node.args[arg]
            # dotted codes (dms.…, h7.…, ceb.…) answer machine messages, never a page
            if (
                isinstance(code, ast.Constant)
                and isinstance(code.value, str)
                and "." not in code.value
            ):
                out[code.value] = f"{file.relative_to(root)}:{node.lineno}"
    return out


def test_every_problem_the_pages_show_has_words_in_both_languages() -> None:
    codes = _literal_codes()
    assert {"required", "own_proposal", "vague_description", "match_payer"} <= set(codes)
    unlisted = sorted(f"{c} ({where})" for c, where in codes.items() if c not in labels.PROBLEMS)
    assert not unlisted, unlisted
    en, fr = _catalogue("en"), _catalogue("fr")
    for code in codes:
        assert en.get(f"problem_{code}") and fr.get(f"problem_{code}"), code


def test_french_pages_say_reasons_and_problems_in_french() -> None:
    fr = i18n.translations("fr").gettext
    shipped = {p.id: p.reason for p in default_profiles().profiles}
    blade = Reason("rule", "WPN-BLADE-STUN", shipped["WPN-BLADE-STUN"] + " (item 1)", 60)
    said = labels.reason_text(fr, blade, "fr", shipped)
    assert said.startswith("Armes") and said.endswith(" (item 1)")
    assert labels.reason_text(fr, blade, "en", shipped) == blade.text
    edited = Reason("rule", "WPN-BLADE-STUN", "Pepper spray: check the permit", 5)
    assert labels.reason_text(fr, edited, "fr", shipped) == edited.text  # an analyst's words
    vague = Reason("validation", "vague_description", "description too vague", 25)
    assert labels.reason_text(fr, vague, "fr", shipped) == fr("problem_vague_description")
    sample = Reason("random", "control_sample", "random control sample (rate 0.01)")
    assert labels.reason_text(fr, sample, "fr", shipped) == fr("reason_control_sample")
    own = Problem("/decision", "own_proposal", "a second person reviews a change")
    assert labels.problem_text(fr, own, "fr") == fr("problem_own_proposal") != own.message
    assert labels.problem_text(fr, own, "en") == own.message


def test_every_form_refusal_the_pages_show_has_words_in_both_languages() -> None:
    """Each `InvalidInput(problems, "…")` message in the modules the pages call starts with
    words `labels.DETAILS` knows, and each known start still occurs in the code."""
    root = Path(clearway.__file__).parent
    source = "".join(f.read_text("utf-8") for f in root.rglob("*.py"))
    details: list[str] = []
    for part in ("web", "storage/web_repository.py", "storage/profile_versions.py"):
        target = root / part
        for file in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            for node in ast.walk(ast.parse(file.read_text("utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "InvalidInput"
                    and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)
                ):
                    details.append(str(node.args[1].value))
    assert len(details) >= 5
    unknown = [d for d in details if not any(d.startswith(s) for s in labels.DETAILS)]
    assert not unknown, unknown
    stale = [s for s in labels.DETAILS if s not in source.replace('"\n', "")]
    assert not stale, stale
    fr = i18n.translations("fr").gettext
    said = labels.detail_text(fr, "cannot release: holds still open by food_safety", "fr")
    assert said == "Mainlevée refusée : des retenues restent ouvertes par food_safety"
    assert labels.detail_text(fr, "something new", "fr") == "something new"


def test_every_assessment_flag_has_words_in_both_languages() -> None:
    """Every literal flag the revenue calculator and collection rules set (`w.flag("…")`,
    `….flags.append("…")`, `flags=[…]`) is a known flag, so both catalogues say it."""
    root = Path(clearway.__file__).parent / "revenue"
    flags: dict[str, str] = {}
    for file in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text("utf-8"))):
            strings: list[ast.expr] = []
            if isinstance(node, ast.Call) and node.args:
                called = ast.unparse(node.func)
                if called.endswith(".flag") or called.endswith("flags.append"):
                    strings = [node.args[0]]
            elif (
                isinstance(node, ast.keyword)
                and node.arg == "flags"
                and isinstance(node.value, ast.List)
            ):
                strings = list(node.value.elts)
            for s in strings:
                if isinstance(s, ast.Constant) and isinstance(s.value, str):
                    flags[s.value] = f"{file.name}:{getattr(node, 'lineno', '')}"
    assert {"excise_not_computed", "tariff_line_ambiguous"} <= set(flags)
    unknown = sorted(f"{f} ({where})" for f, where in flags.items() if f not in labels.FLAGS)
    assert not unknown, unknown


def test_french_report_translates_every_word() -> None:
    """The statistics report's own strings, the words it builds from data keys and its
    column and row names all have French words."""
    from clearway.statistics import report
    from clearway.statistics.whatif import WORKLOAD

    po = resources.files("clearway.statistics").joinpath("locale/fr/LC_MESSAGES/report.po")
    with po.open("rb") as f:
        fr = {str(m.id): str(m.string) for m in read_po(f) if m.id}
    template = resources.files("clearway.statistics").joinpath("templates", "report.html")
    with template.open("rb") as f:
        wanted = {m for _, _, m, _ in babel_extract(f, ("_",), [], {}) if isinstance(m, str)}
    keys = (
        *report.TERMS,
        *report.REVENUE_KEYS,
        *report.BREAKDOWN_COLS,
        *report.REGISTRATION_COLS,
        *report.WHATIF_COUNTS,
        *WORKLOAD,
    )
    wanted |= {k.replace("_", " ") for k in keys} | {label for _, label in report.OVERVIEW_ROWS}
    # the charts' words: literal `t("…")` in charts.py, `gettext("…")` in report.py
    root = Path(clearway.__file__).parent / "statistics"
    for name, call in (("charts.py", "t"), ("report.py", "w.gettext")):
        for node in ast.walk(ast.parse((root / name).read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == call
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                wanted.add(str(node.args[0].value))
    assert {"median", "inspection hit rates (95 % Wilson intervals)"} <= wanted
    assert len(wanted) > 100
    missing = sorted(m for m in wanted if not fr.get(m))
    assert not missing, missing
