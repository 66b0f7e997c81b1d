"""Derive the shipped pack data files from the reference data in `../shared/data`.

Run once when a source changes: `python -m clearway.revenue.derive /path/to/shared/data`.
It writes compact CSVs into `revenue/packs/*` and `revenue/data/`; nothing imports this module at
run time. Duty expressions are rewritten into one small grammar the tariff module reads:

    6.5%                    ad valorem
    0.026 USD/kg            specific, per kilogram net mass
    0.5 USD/item            specific, per unit
    6% + 0.044 USD/kg       compound
    ~6%                     only the ad valorem part of an expression the calculator does not model
                            (entry price, MIN/MAX, seasonal, per litre…); `~` alone: no usable part
"""

from __future__ import annotations

import csv
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent
_NUM = r"(\d+(?:[.,]\d+)?)"


def _num(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _us_term(term: str) -> str | None:
    term = term.strip().rstrip(".")
    if term == "Free":
        return "0%"
    if m := re.fullmatch(_NUM + r"%", term):
        return f"{_fmt(_num(m.group(1)))}%"
    if m := re.fullmatch(_NUM + r"¢/kg", term):
        return f"{_fmt(_num(m.group(1)) / 100)} USD/kg"
    if m := re.fullmatch(r"\$" + _NUM + r"/kg", term):
        return f"{_fmt(_num(m.group(1)))} USD/kg"
    if m := re.fullmatch(_NUM + r"¢ each", term):
        return f"{_fmt(_num(m.group(1)) / 100)} USD/item"
    if m := re.fullmatch(r"\$" + _NUM + r" each", term):
        return f"{_fmt(_num(m.group(1)))} USD/item"
    return None


def _eu_term(term: str, currency: str) -> str | None:
    term = re.sub(r"\s+", " ", term.strip())
    if m := re.fullmatch(_NUM + r" ?%", term):
        return f"{_fmt(_num(m.group(1)))}%"
    if m := re.fullmatch(_NUM + rf" ?{currency} ?/ ?100 ?kg", term):
        return f"{_fmt(_num(m.group(1)) / 100)} {currency}/kg"
    if m := re.fullmatch(_NUM + rf" ?{currency} ?/ ?tonne", term):
        return f"{_fmt(_num(m.group(1)) / 1000)} {currency}/kg"
    if m := re.fullmatch(_NUM + rf" ?{currency} ?/ ?item", term):
        return f"{_fmt(_num(m.group(1)))} {currency}/item"
    return None


def normalise(expression: str, term_reader: str, currency: str = "USD") -> str:
    """Rewrite one published duty expression into the shipped grammar."""
    terms = [t for t in expression.split("+")]
    parsed: list[str] = []
    for term in terms:
        out = _us_term(term) if term_reader == "us" else _eu_term(term, currency)
        if out is None:
            ad_valorem = [p for p in parsed if p.endswith("%")]
            first = re.match(_NUM + r" ?%", expression.strip())
            if first and not ad_valorem:
                ad_valorem = [f"{_fmt(_num(first.group(1)))}%"]
            return "~" + (ad_valorem[0] if ad_valorem else "")
        parsed.append(out)
    return " + ".join(parsed)


def derive_us(shared: Path) -> None:
    src = shared / "tariff_schedules/us_hts/hts_2026_revision_4.csv"
    rows: list[tuple[str, str]] = []
    with src.open(encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            code = r["HTS Number"].replace(".", "")
            rate = r["General Rate of Duty"].strip()
            if not code or not rate or code.startswith(("98", "99")):
                continue
            rows.append((code, normalise(rate, "us")))
    _write(HERE / "packs/us/tariff_hts_2026r4.csv", rows)


def derive_uk_and_eu(shared: Path) -> None:
    src = shared / "tariff_schedules/uk_global_tariff/global-uk-tariff_2021.csv"
    eu: list[tuple[str, str]] = []
    uk: list[tuple[str, str]] = []
    with src.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            eu.append((r["commodity"], normalise(r["cet_duty_rate"], "eu", "EUR")))
            uk.append((r["commodity"], normalise(r["ukgt_duty_rate"], "eu", "GBP")))
    _write(HERE / "packs/eu/tariff_cet_2020.csv", eu)
    _write(HERE / "packs/gb/tariff_ukgt_2021.csv", uk)


# A preferential-rate marker ends Schedule 3's general rate: "5% DCS:4% DCT:5%", "Free CA:Free",
# "$1090.33/kg NZ/PG/FI/DC/LDC/SG: …"
_AU_PREFERENCE = re.compile(r"\s*(?:[A-Z]{2,3}(?:/[A-Z]{2,3})*:)")


def au_general_rate(printed: str) -> str:
    """Schedule 3's general rate (the text before the first preference code) in the grammar."""
    text = printed.replace("\u200b", "").replace("\xa0", " ").strip()
    # phased rates "5%From 1 July 2018:2.5%From 1 July 2019:Free": the last phase started
    # before the snapshot (2019-07-19) is the rate it shows
    phases = re.split(r"From \d{1,2} \w+ \d{4}:\s*", text)
    general = _AU_PREFERENCE.split(phases[-1].strip(), maxsplit=1)[0].strip()
    if general == "Free":
        return "0%"
    if m := re.fullmatch(_NUM + r"%", general):
        return f"{_fmt(_num(m.group(1)))}%"
    if m := re.fullmatch(r"\$" + _NUM + r"/kg", general):
        return f"{_fmt(_num(m.group(1)))} AUD/kg"
    first = re.match(_NUM + r"%", general)
    return "~" + (f"{_fmt(_num(first.group(1)))}%" if first else "")


def derive_au(shared: Path) -> None:
    """Schedule 3 general rates by 8-digit reference number (snapshot of 2019-07-19); the
    statistical-code rows without a rate take their reference number's rate."""
    src = shared / "tariff_schedules/au_schedule3/au_schedule3_2019.csv"
    rates: dict[str, str] = {}
    with src.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code = r["reference_number"].strip().zfill(8)
            printed = r["rate"].replace("\u200b", "").strip()
            if printed:  # the last printed rate: later rows are the newer phases
                rates[code] = au_general_rate(printed)
    _write(HERE / "packs/au/tariff_schedule3_2019.csv", sorted(rates.items()))


def derive_correlation(shared: Path) -> None:
    """HS 2022 → HS 2017 pairs of the UN correlation table, without the unchanged 1:1 codes."""
    src = shared / "hs_nomenclature/hs2022_hs2017_correlation.csv"
    rows: list[tuple[str, str, str]] = []
    with src.open(encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            if r["hs2022"] == r["hs2017"] and r["relationship"] == "1:1":
                continue
            rows.append((r["hs2022"], r["hs2017"], r["relationship"]))
    with (HERE / "data/hs2022_hs2017.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["hs2022", "hs2017", "relationship"])
        w.writerows(sorted(set(rows)))


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "duty"])
        w.writerows(sorted(set(rows)))


EU_MEMBERS = [
    "AT",
    "BE",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]
VAT_HISTORY_REF = "https://taxation-customs.ec.europa.eu/tedb/"
SINCE = "2018-01-01"


def derive_eu_vat(shared: Path) -> None:
    """Standard VAT rate periods per member state from 2018 on (history + current TEDB file)."""
    history = json.loads((shared / "tax_rates/eu_vat_rates_history_ibericode.json").read_text())
    current = json.loads((shared / "tax_rates/eu_vat_rates_vatnode_2026-09-29.json").read_text())
    rows: list[list[str]] = []
    for country in EU_MEMBERS:
        key = "EL" if country == "GR" and "GR" not in history["items"] else country
        periods = sorted(history["items"].get(key, []), key=lambda p: str(p["effective_from"]))
        spans: list[tuple[str, Decimal]] = []
        for p in periods:
            start = max(str(p["effective_from"]), SINCE)
            rate = Decimal(str(p["rates"]["standard"])) / 100
            if spans and spans[-1][0] == start:
                spans[-1] = (start, rate)
            elif not spans or spans[-1][1] != rate:
                spans.append((start, rate))
        latest = current["rates"].get(country) or current["rates"].get(key)
        now = Decimal(str(latest["standard"])) / 100
        if not spans or spans[-1][1] != now:
            # a change after the history file's cut (2025-08-12) seen in the TEDB 2026-09-29 file
            spans.append(("2025-08-13", now))
        for i, (start, rate) in enumerate(spans):
            until = ""
            if i + 1 < len(spans):
                nxt = spans[i + 1][0]
                until = str(_day_before(nxt))
            rows.append([country, start, until, _fmt(rate), VAT_HISTORY_REF])
    with (HERE / "packs/eu/vat_rates.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "from", "until", "value", "reference"])
        w.writerows(rows)


def _day_before(iso: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(iso) - timedelta(days=1)).isoformat()


def derive_fx(shared: Path) -> None:
    """ECB reference rates from 2018 on, only currencies still quoted in that period."""
    src = shared / "fx_rates/ecb_eurofxref_hist.csv"
    with src.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [h for h in next(reader) if h]
        rows = [r[: len(header)] for r in reader if r and r[0] >= SINCE]
    rows.sort(key=lambda r: r[0])
    keep = [i for i, h in enumerate(header) if i == 0 or any(r[i] != "N/A" for r in rows)]
    with (HERE / "data/ecb_rates.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([header[i] for i in keep])
        for r in rows:
            w.writerow(["" if r[i] == "N/A" else r[i] for i in keep])


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else HERE.parents[4] / "shared/data"
    derive_us(shared)
    derive_uk_and_eu(shared)
    derive_eu_vat(shared)
    derive_fx(shared)
    derive_au(shared)
    derive_correlation(shared)


if __name__ == "__main__":
    main(sys.argv)
