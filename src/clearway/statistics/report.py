"""The HTML report: every figure of a snapshot's period, with charts as local files.

`write_report(snapshot_dir, out_dir)` writes `index.html` (English), `index.fr.html` (French),
`report.css`, `report.json` (the same figures, amounts as decimal strings) and
`charts/*.svg|png` (the French page's in `charts/fr/`). No network: the pages load nothing
remote, have no inline style or script, and say so in their Content-Security-Policy. Each page
and its charts are in its language, numbers too (Babel); the French words are in
`locale/fr/LC_MESSAGES/report.po`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jinja2
from babel.numbers import format_decimal, format_percent

from clearway.kernel.catalogues import compile_po
from clearway.statistics import charts
from clearway.statistics.figures import collect, jsonable
from clearway.statistics.measures import REVENUE_KEYS
from clearway.statistics.snapshot import Period, Snapshot
from clearway.statistics.whatif import COST_KEYS, WORKLOAD, Study, load_study, run_study

OVERVIEW_ROWS: Final = (
    ("parcels", "parcels"),
    ("items", "items"),
    ("value", "value of goods"),
    ("revenue", "revenue assessed"),
    ("arrived", "arrived"),
    ("released", "released"),
    ("inspected", "inspected"),
    ("random_sample", "in the random control sample"),
    ("registration_numbers", "registration numbers used"),
)
BREAKDOWN_COLS: Final = ("parcels", "items", "value", "duty", "tax", "fees", "revenue")
REGISTRATION_COLS: Final = (
    "parcels",
    "declared_vendor",
    "vendor_collected",
    "refused",
    "invalid",
    "value",
    "tax_recorded",
    "platforms",
    "sellers",
    "destinations",
)
WHATIF_COUNTS: Final = (
    "parcels",
    "owing",
    "dutiable",
    "taxable",
    "became_dutiable",
    "became_taxable",
    "no_longer_dutiable",
    "no_longer_taxable",
)
_CENT = Decimal("0.01")


def fmt(v: Any) -> str:
    """Display form: amounts to the cent (half-even) with thousands separators."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, Decimal):
        return f"{v.quantize(_CENT, ROUND_HALF_EVEN):,}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:,.2f}"


# Report languages: name and file of each page (English is the source language).
LANGUAGES: Final = {"en": ("English", "index.html"), "fr": ("Français", "index.fr.html")}
# Words the report builds from data keys (`t(key)`: underscores read as spaces), which the
# catalogue test checks alongside the template's own `_()` strings.
TERMS: Final = (
    "everything stored",
    "destination_country",
    "dispatch_country",
    "origin_country",
    "hs_chapter",
    "hs_heading",
    "platform",
    "mode",
    "irg_category",
    "collection_model",
    "value_band",
    "lane",
    "office",
    "agency",
    "customs",
    "consumer",
    "vendor",
    "intermediary",
    "green",
    "blue",
    "yellow",
    "red",
    "post",
    "express",
    "air_cargo",
    "road",
    "rail",
    "sea",
    "baseline",
    "rule",
    "score",
    "random sample",
    "file_to_decide",
    "decide_to_arrive",
    "arrive_to_release",
    "hold_to_release",
    "file_to_release",
)


@dataclass(frozen=True, slots=True)
class Words:
    """One language's words and number formats for the report page."""

    lang: str
    gettext: Callable[[str], str]

    def t(self, key: object) -> str:
        return self.gettext(str(key).replace("_", " "))

    def fmt(self, v: Any) -> str:
        if self.lang == "en":
            return fmt(v)
        if v is None:
            return "—"
        if isinstance(v, bool):
            return self.gettext("yes" if v else "no")
        if isinstance(v, Decimal):
            cents = v.quantize(_CENT, ROUND_HALF_EVEN)
            return str(format_decimal(cents, format="#,##0.00", locale=self.lang))
        if isinstance(v, int):
            return str(format_decimal(v, locale=self.lang))
        if isinstance(v, float):
            return str(format_decimal(round(v, 2), format="#,##0.00", locale=self.lang))
        return str(v)

    def pct(self, v: float | None) -> str:
        if self.lang == "en" or v is None:
            return pct(v)
        return str(format_percent(v, format="#,##0.0%", locale=self.lang))

    def hours(self, seconds: float | None) -> str:
        if self.lang == "en" or seconds is None:
            return hours(seconds)
        return str(format_decimal(round(seconds / 3600, 2), format="#,##0.00", locale=self.lang))


@cache
def words(lang: str) -> Words:
    if lang == "en":
        return Words(lang, str)
    po = resources.files("clearway.statistics").joinpath(f"locale/{lang}/LC_MESSAGES/report.po")
    return Words(lang, compile_po(po, lang).gettext)


def write_report(
    snapshot_dir: Path,
    out_dir: Path,
    period: Period | None = None,
    study: Study | Path | None = None,
    formats: tuple[str, ...] = charts.FORMATS,
) -> Path:
    """Compute the figures of the period (default: everything in the snapshot), draw the charts,
    and write the report; returns the path of `index.html`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart_dir = out_dir / "charts"
    with Snapshot(snapshot_dir, period) as snap:
        figures = collect(snap)
        whatif: dict[str, Any] | None = None
        if study is not None:
            study = load_study(study) if isinstance(study, Path) else study
            results = [r.as_dict() for r in run_study(snap, study)]
            whatif = {
                "title": study.title,
                "costs": _costs(study),
                "results": results,
                "count_keys": WHATIF_COUNTS,
                "charts": {},
            }
        manifest = snap.manifest
        rc = snap.reporting_currency
    for lang, (_name, page) in LANGUAGES.items():
        w = words(lang)
        folder = chart_dir if lang == "en" else chart_dir / lang  # charts drawn in each language
        paths = _charts(figures, folder, rc, formats, w)
        drawn = dict(whatif) if whatif is not None else None
        if drawn is not None:
            base = drawn["results"][0]
            drawn["charts"] = {}
            for r in drawn["results"][1:]:
                fig = charts.scenario(r["name"], _decimals(r), _decimals(base), WORKLOAD, w.t)
                name = f"whatif_{_slug(r['name'])}"
                drawn["charts"][r["name"]] = _rel(charts.save(fig, folder, name, formats), out_dir)
        html = _template().render(
            **figures,
            manifest=manifest,
            rc=rc,
            overview_rows=OVERVIEW_ROWS,
            revenue_cols=REVENUE_KEYS,
            breakdown_cols=BREAKDOWN_COLS,
            registration_cols=REGISTRATION_COLS,
            charts={k: _rel(p, out_dir) for k, p in paths.items()},
            whatif=drawn,
            lang=lang,
            languages={code: (name, file) for code, (name, file) in LANGUAGES.items()},
            _=w.gettext,
            t=w.t,
            fmt=w.fmt,
            pct=w.pct,
            hours=w.hours,
        )
        (out_dir / page).write_text(html, encoding="utf-8")
    index = out_dir / LANGUAGES["en"][1]
    style = resources.files("clearway.statistics").joinpath("templates", "report.css")
    (out_dir / "report.css").write_text(style.read_text("utf-8"), encoding="utf-8")
    data = jsonable({**figures, "manifest": manifest, "whatif": whatif})
    (out_dir / "report.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    return index


def _costs(study: Study) -> dict[str, Any]:
    c = study.costs
    out: dict[str, Any] = {"currency": c.currency, "reference": c.reference}
    out.update({k: getattr(c, k) for k in COST_KEYS})
    return out


def _decimals(result: dict[str, Any]) -> dict[str, Any]:
    """A scenario result from `as_dict()` (decimal strings) with Decimal amounts again."""
    revenue = {
        cur: {k: Decimal(v) for k, v in amounts.items()}
        for cur, amounts in result["revenue"].items()
    }
    return {**result, "revenue": revenue}


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_") or "scenario"


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _charts(
    figures: dict[str, Any], folder: Path, rc: str, formats: tuple[str, ...], w: Words
) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for dim, rows in figures["breakdowns"].items():
        title = w.gettext("parcels by %(what)s") % {"what": w.t(dim)}
        fig = charts.bars(rows, ["parcels"], title, w.t("parcels"), t=w.t)
        out[dim] = charts.save(fig, folder, f"parcels_by_{dim}", formats)
    dest = figures["breakdowns"].get("destination_country", [])
    by_revenue = sorted(dest, key=lambda r: (-r["revenue"], r["key"]))
    title = w.gettext("revenue by destination")
    fig = charts.bars(by_revenue, ["duty", "tax", "fees"], title, rc, t=w.t)
    out["revenue"] = charts.save(fig, folder, "revenue_by_destination", formats)
    title = w.gettext("inspection hit rates (95 % Wilson intervals)")
    fig = charts.hit_rates(figures["hit_rates"], title, t=w.t)
    out["hit_rates"] = charts.save(fig, folder, "hit_rates", formats)
    for by, rows in figures["time_release"].items():
        title = w.gettext("arrival to release by %(what)s") % {"what": w.t(by)}
        fig = charts.durations(rows, "arrive_to_release", title, t=w.t)
        out[f"time_{by}"] = charts.save(fig, folder, f"arrive_to_release_by_{by}", formats)
    return out


def _template() -> jinja2.Template:
    text = resources.files("clearway.statistics").joinpath("templates", "report.html")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text.read_text("utf-8"))
