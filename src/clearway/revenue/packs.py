"""Jurisdiction packs: legislation as dated data, validated on load.

A pack is a folder with a `pack.yaml` (and CSV files it points to). Every parameter is a timeline
of periods; each period has `from`, optional `until` (inclusive), a `value` and a `reference` URL.
A `value: null` period means "not in force" (a relief that was abolished, a threshold suspended).
Parameters that differ per destination country use `by_country` (inline or `csv: file.csv`).

Every load error is a `PackError` naming the file and the line.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from clearway.kernel.codes import is_country, is_currency
from clearway.kernel.errors import ClearwayError
from clearway.revenue.excise import check_allowances, check_rates, check_supplementary
from clearway.revenue.fx import check_rule

PACKS_DIR = Path(str(resources.files("clearway.revenue").joinpath("packs")))


class PackError(ClearwayError):
    """A pack file is not valid. The message names the file and the line."""

    problem_type = "invalid-pack"
    status = 500

    def __init__(self, file: str | Path, line: int, detail: str) -> None:
        super().__init__(f"{file}:{line}: {detail}")
        self.file = str(file)
        self.line = line


# The parameters a pack may define and the shape of their values. An unknown name is an error,
# so a typo in a pack cannot silently switch a rule off.
RATE = "rate"  # decimal string, 0 ≤ r < 1 (e.g. "0.19")
MONEY = "money"  # {amount, currency}
THRESHOLD = "threshold"  # {amount, currency, basis: intrinsic|customs_value}
TEXT = "text"
FLAG = "flag"
MAPPING = "mapping"  # free structure validated by the calculator step that reads it
FILE = "file"  # a CSV in the pack folder

SCHEMA: dict[str, str] = {
    "rounding": MAPPING,  # {mode: half_up|half_even, scope: charge}
    "valuation.basis": TEXT,  # cif | fob: whether transport/insurance enter the customs value
    "fx.rule": MAPPING,  # {method: monthly|daily, fixing, approximates} (fx.py)
    "duty.tariff": FILE,
    "duty.tariff_edition": TEXT,  # HS2017: carried onto HS 2022 with the UN correlation table
    "duty.additional_not_modelled": TEXT,  # duties on top of the tariff the pack leaves out
    "duty.tariff_caveat": TEXT,  # what a dated tariff snapshot cannot vouch for (flagged)
    "duty.unlisted": MAPPING,  # {hs6: why the tariff has no line} — an explicit manual assessment
    "duty.no_tariff_reason": TEXT,  # a pack without a tariff says why (and what happens instead)
    "duty.default_rate": RATE,
    "duty.de_minimis": THRESHOLD,
    "duty.gift_relief": MONEY,
    "duty.flat_per_subheading": MAPPING,
    "duty.postal_specific": MAPPING,
    "tax.standard_rate": RATE,
    "tax.label": TEXT,
    "tax.de_minimis": THRESHOLD,
    "tax.base_includes_transport": FLAG,
    "tax.waiver": MONEY,  # import tax of a consignment at or below this is not levied (CH)
    "tax.regional_rates": MAPPING,  # {regions: {code: {rate, label}}, postcode_prefixes: {…}}
    "thresholds.by_dispatch": MAPPING,  # [{name, from_countries, modes, duty, tax}] (CA CUSMA)
    "tax.gift_relief": MONEY,
    "collection.vendor": MAPPING,
    "collection.intermediary": MAPPING,
    "cbec": MAPPING,
    "consumption_tax.rates": MAPPING,
    "excise.headings": MAPPING,
    "excise.rates": MAPPING,  # [{name, prefixes, unit, amount, currency, ad_valorem, abv band}]
    "duty.relief_exclusions": MAPPING,  # HS prefixes no duty relief reaches (alcohol, tobacco…)
    "duty.gift_flat_rate": MAPPING,  # {rate, max_value, excluded}: gifts above the relief
    "gift.excise_allowances": MAPPING,  # excise goods a gift may hold and keep its reliefs
    "gift.excise_payable": FLAG,  # excise is due on a gift even within the allowances (UK)
    "excise.supplementary_units": MAPPING,  # {HS prefix: unit}: quantities from DE 18 02
    "fees": MAPPING,
    "irg.low_value_threshold": THRESHOLD,
    "relief.returned_goods": FLAG,
}


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    until: date | None
    value: Any
    reference: str
    file: str
    line: int


@dataclass(slots=True)
class Timeline:
    """The periods of one parameter (for one country), sorted by start date, not overlapping."""

    name: str
    periods: list[Period] = field(default_factory=list)
    _starts: list[date] = field(default_factory=list)

    def add(self, period: Period) -> None:
        self.periods.append(period)
        self.periods.sort(key=lambda p: p.start)
        self._starts = [p.start for p in self.periods]
        for a, b in zip(self.periods, self.periods[1:], strict=False):
            if a.until is None or a.until >= b.start:
                raise PackError(
                    b.file, b.line, f"{self.name}: period from {b.start} overlaps the one before"
                )

    def at(self, when: date) -> Period | None:
        """The period in force on `when`, or None."""
        i = bisect.bisect_right(self._starts, when) - 1
        if i < 0:
            return None
        period = self.periods[i]
        if period.until is not None and when > period.until:
            return None
        return period

    def change_dates(self) -> set[date]:
        out: set[date] = set()
        for p in self.periods:
            out.add(p.start)
            if p.until is not None:
                out.add(date.fromordinal(p.until.toordinal() + 1))
        return out


@dataclass(slots=True)
class Pack:
    code: str  # EU, GB, US, AU, CN
    name: str
    folder: Path
    countries: dict[str, str]  # destination country → currency
    reference: str
    valid_from: date = date.min  # the first legal date the pack's law is written for
    valid_until: date | None = None  # the last one (None: until changed)
    common: dict[str, Timeline] = field(default_factory=dict)
    by_country: dict[str, dict[str, Timeline]] = field(default_factory=dict)

    def timeline(self, name: str, country: str) -> Timeline | None:
        per_country = self.by_country.get(name)
        if per_country is not None:
            return per_country.get(country)
        return self.common.get(name)

    def jurisdiction(self, country: str) -> str:
        """The jurisdiction code stored on assessments: `EU-DE` in a union pack, else `GB`…"""
        return f"{self.code}-{country}" if len(self.countries) > 1 else self.code

    def change_dates(self) -> set[date]:
        out: set[date] = set()
        for t in self.common.values():
            out |= t.change_dates()
        for per_country in self.by_country.values():
            for t in per_country.values():
                out |= t.change_dates()
        return out


# --- YAML with line numbers -------------------------------------------------------------------


def _plain(node: yaml.Node) -> Any:
    """Convert a composed YAML node to plain Python (dates stay strings)."""
    if isinstance(node, yaml.MappingNode):
        return {_plain(k): _plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v) for v in node.value]
    if isinstance(node, yaml.ScalarNode):
        if node.tag.endswith(":null") or (node.style is None and node.value in ("", "~", "null")):
            return None
        if node.style is None and node.value in ("true", "false"):
            return node.value == "true"
        return node.value
    raise TypeError(f"unexpected YAML node {node!r}")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _mapping(node: yaml.Node, file: Path, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise PackError(file, _line(node), f"{what} must be a mapping")
    out: dict[str, yaml.Node] = {}
    for k, v in node.value:
        out[str(k.value)] = v
    return out


def _date(text: object, file: Path | str, line: int, what: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise PackError(file, line, f"{what} must be a date YYYY-MM-DD, not {text!r}") from None


def _decimal(text: object, file: Path | str, line: int, what: str) -> Decimal:
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise PackError(file, line, f"{what} must be a decimal string, not {text!r}")
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise PackError(file, line, f"{what} must be a decimal string, not {text!r}") from None
    if not value.is_finite() or value < 0:
        raise PackError(file, line, f"{what} must be a finite, non-negative amount")
    return value


def check_value(kind: str, value: Any, folder: Path, file: Path | str, line: int, name: str) -> Any:
    """Validate and convert one period's value for a parameter of `kind`."""
    if value is None:
        return None
    if kind == RATE:
        rate = _decimal(value, file, line, name)
        if rate >= 1:
            raise PackError(file, line, f"{name}: a rate is a fraction (0.19), not {value}")
        return rate
    if kind in (MONEY, THRESHOLD):
        if not isinstance(value, dict) or not {"amount", "currency"} <= value.keys():
            raise PackError(file, line, f"{name}: expected {{amount, currency}}")
        if not is_currency(str(value["currency"])):
            raise PackError(file, line, f"{name}: unknown currency {value['currency']!r}")
        out = dict(value)
        out["amount"] = _decimal(value["amount"], file, line, f"{name}.amount")
        if kind == THRESHOLD and out.get("basis", "intrinsic") not in (
            "intrinsic",
            "customs_value",
        ):
            raise PackError(file, line, f"{name}: basis is intrinsic or customs_value")
        if kind == THRESHOLD:
            out.setdefault("basis", "intrinsic")
        return out
    if kind == FLAG:
        if not isinstance(value, bool):
            raise PackError(file, line, f"{name}: expected true or false")
        return value
    if kind == TEXT:
        return str(value)
    if kind == FILE:
        if not (folder / str(value)).is_file():
            raise PackError(file, line, f"{name}: file {value} not found in {folder}")
        return str(value)
    check = _MAPPING_CHECKS.get(name)
    if check is None:
        return value
    try:
        return check(value)
    except KeyError as exc:
        raise PackError(file, line, f"{name}: missing key {exc}") from None
    except (TypeError, ValueError, InvalidOperation, AttributeError) as exc:
        raise PackError(file, line, f"{name}: {exc}") from None


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected a decimal string, not {value!r}")
    out = Decimal(str(value))
    if not out.is_finite() or out < 0:
        raise ValueError(f"expected a non-negative amount, not {value!r}")
    return out


def _money(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected {{amount, currency}}, not {value!r}")
    if not is_currency(str(value["currency"])):
        raise ValueError(f"unknown currency {value['currency']!r}")
    out = dict(value)
    out["amount"] = _dec(value["amount"])
    if "basis" in out and out["basis"] not in ("intrinsic", "customs_value"):
        raise ValueError("basis is intrinsic or customs_value")
    out.setdefault("basis", "intrinsic")
    return out


def _rounding(v: Any) -> dict[str, Any]:
    if v["mode"] not in ("half_up", "half_even"):
        raise ValueError("rounding mode is half_up or half_even")
    return dict(v)


def _flat(v: Any) -> dict[str, Any]:
    return {
        "amount": _dec(v["amount"]),
        "currency": str(v["currency"]),
        "max_value": _money(v["max_value"]),
        "categories": [str(c) for c in v["categories"]],
    }


def _postal(v: Any) -> dict[str, Any]:
    tiers = []
    for t in v["tiers"]:
        tier: dict[str, Any] = {"amount": _dec(t["amount"])}
        for key in ("below", "at_most"):
            if key in t:
                tier[key] = _dec(t[key])
        tiers.append(tier)
    return {
        "currency": str(v["currency"]),
        "modes": [str(m) for m in v["modes"]],
        "tiers": tiers,
        "origin_rates": {str(k): _dec(r) for k, r in v["origin_rates"].items()},
    }


def _vendor(v: Any) -> dict[str, Any]:
    re.compile(str(v["number_pattern"]))
    return {
        # None: no value limit (Switzerland's registered mail-order sellers)
        "max_value": _money(v["max_value"]) if v["max_value"] is not None else None,
        # per_item: the limit applies to each item's value (Norway's VOEC: below NOK 3,000)
        "per_item": bool(v.get("per_item", False)),
        "strictly_below": bool(v.get("strictly_below", False)),
        "number_pattern": str(v["number_pattern"]),
        "mandatory": bool(v.get("mandatory", False)),
        "excludes_excise": bool(v.get("excludes_excise", True)),
    }


def _gift_rate(v: Any) -> dict[str, Any]:
    rate = _dec(v["rate"])
    if rate >= 1:
        raise ValueError("a rate is a fraction")
    return {
        "rate": rate,
        "max_value": _money(v["max_value"]),
        "excluded": _headings(v.get("excluded", [])),
    }


def _intermediary(v: Any) -> dict[str, Any]:
    return {"max_value": _money(v["max_value"])}


def _cbec(v: Any) -> dict[str, Any]:
    return {
        "transaction_limit": _money(v["transaction_limit"]),
        "annual_limit": _money(v["annual_limit"]),
        "duty_rate": _dec(v["duty_rate"]),
        "tax_factor": _dec(v["tax_factor"]),
    }


def _ct_rates(v: Any) -> dict[str, Decimal]:
    out = {str(k): _dec(r) for k, r in v.items()}
    if any(not k.isdigit() or r >= 1 for k, r in out.items()):
        raise ValueError("keys are HS prefixes (digits), rates fractions below 1")
    return out


def _headings(v: Any) -> list[str]:
    out = [str(h) for h in v]
    if any(not h.isdigit() for h in out):
        raise ValueError("expected a list of HS prefixes (digits)")
    return out


def _fees(v: Any) -> list[dict[str, Any]]:
    out = []
    for f in v:
        if f["per"] not in ("consignment", "subheading", "item"):
            raise ValueError("fee `per` is consignment, subheading or item")
        out.append(
            {
                "name": str(f["name"]),
                "amount": _dec(f["amount"]),
                "currency": str(f["currency"]),
                "per": str(f["per"]),
                "max_value": _money(f["max_value"]),
            }
        )
    return out


_MAPPING_CHECKS: dict[str, Any] = {
    "rounding": _rounding,
    "fx.rule": check_rule,
    "duty.unlisted": lambda v: {str(k): str(r) for k, r in v.items()},
    "duty.flat_per_subheading": _flat,
    "duty.postal_specific": _postal,
    "collection.vendor": _vendor,
    "collection.intermediary": _intermediary,
    "cbec": _cbec,
    "consumption_tax.rates": _ct_rates,
    "excise.headings": _headings,
    "excise.rates": check_rates,
    "gift.excise_allowances": check_allowances,
    "excise.supplementary_units": check_supplementary,
    "duty.relief_exclusions": _headings,
    "duty.gift_flat_rate": _gift_rate,
    "tax.regional_rates": lambda v: {
        "regions": {
            str(k): {"rate": _dec(r["rate"]), "label": str(r["label"])}
            for k, r in v["regions"].items()
        },
        "postcode_prefixes": {str(k): str(r) for k, r in v["postcode_prefixes"].items()},
    },
    "thresholds.by_dispatch": lambda v: [
        {
            "name": str(r["name"]),
            "from_countries": [str(c) for c in r["from_countries"]],
            "modes": [str(m) for m in r["modes"]],
            "duty": _money(r["duty"]),
            "tax": _money(r["tax"]),
        }
        for r in v
    ],
    "fees": _fees,
}


def _periods(name: str, node: yaml.Node, pack_file: Path, folder: Path) -> Iterable[Period]:
    if not isinstance(node, yaml.SequenceNode):
        raise PackError(pack_file, _line(node), f"{name}: expected a list of periods")
    kind = SCHEMA[name]
    for item in node.value:
        fields = _mapping(item, pack_file, f"{name} period")
        line = _line(item)
        unknown = set(fields) - {"from", "until", "value", "reference", "note"}
        if unknown:
            raise PackError(pack_file, line, f"{name}: unknown keys {sorted(unknown)}")
        for key in ("from", "value", "reference"):
            if key not in fields:
                raise PackError(pack_file, line, f"{name}: every period needs `{key}`")
        start = _date(_plain(fields["from"]), pack_file, _line(fields["from"]), "from")
        until_raw = _plain(fields["until"]) if "until" in fields else None
        until = None
        if until_raw is not None:
            until = _date(until_raw, pack_file, _line(fields["until"]), "until")
            if until < start:
                raise PackError(pack_file, _line(fields["until"]), f"{name}: until before from")
        reference = str(_plain(fields["reference"]) or "")
        if not reference.startswith(("https://", "http://")):
            raise PackError(pack_file, _line(fields["reference"]), f"{name}: reference is a URL")
        value = check_value(
            kind, _plain(fields["value"]), folder, pack_file, _line(fields["value"]), name
        )
        yield Period(start, until, value, reference, str(pack_file), line)


def _csv_periods(name: str, csv_path: Path, folder: Path) -> Iterable[tuple[str, Period]]:
    """Rows `country,from,until,value,reference` of a per-country parameter."""
    kind = SCHEMA[name]
    with csv_path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        expected = {"country", "from", "until", "value", "reference"}
        if set(reader.fieldnames or ()) != expected:
            raise PackError(csv_path, 1, f"columns must be {sorted(expected)}")
        for row in reader:
            line = reader.line_num
            start = _date(row["from"], csv_path, line, "from")
            until = _date(row["until"], csv_path, line, "until") if row["until"] else None
            if not row["reference"].startswith(("https://", "http://")):
                raise PackError(csv_path, line, "reference is a URL")
            value = check_value(kind, row["value"], folder, csv_path, line, name)
            yield row["country"], Period(start, until, value, row["reference"], str(csv_path), line)


def load_pack(folder: Path) -> Pack:
    """Load and validate one pack folder."""
    pack_file = folder / "pack.yaml"
    try:
        root = yaml.compose(pack_file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise PackError(pack_file, line, f"not valid YAML: {exc.problem}") from None
    if root is None:
        raise PackError(pack_file, 1, "empty pack")
    top = _mapping(root, pack_file, "a pack")
    for key in ("pack", "name", "countries", "reference", "valid", "parameters"):
        if key not in top:
            raise PackError(pack_file, _line(root), f"a pack needs `{key}`")
    countries: dict[str, str] = {}
    for code, spec in _mapping(top["countries"], pack_file, "countries").items():
        currency = str((_plain(spec) or {}).get("currency", ""))
        if not is_country(code):
            raise PackError(pack_file, _line(spec), f"unknown country {code!r}")
        if not is_currency(currency):
            raise PackError(pack_file, _line(spec), f"{code}: unknown currency {currency!r}")
        countries[code] = currency
    pack = Pack(
        code=str(_plain(top["pack"])),
        name=str(_plain(top["name"])),
        folder=folder,
        countries=countries,
        reference=str(_plain(top["reference"])),
    )
    valid = _mapping(top["valid"], pack_file, "valid")
    if "from" not in valid or set(valid) - {"from", "until"}:
        raise PackError(pack_file, _line(top["valid"]), "valid: {from: DATE, until: DATE|null}")
    pack.valid_from = _date(_plain(valid["from"]), pack_file, _line(valid["from"]), "valid.from")
    until = _plain(valid["until"]) if "until" in valid else None
    if until is not None:
        pack.valid_until = _date(until, pack_file, _line(valid["until"]), "valid.until")
    params = top["parameters"]
    _mapping(params, pack_file, "parameters")
    assert isinstance(params, yaml.MappingNode)
    for key, node in params.value:
        name = str(key.value)
        if name not in SCHEMA:
            raise PackError(pack_file, _line(key), f"unknown parameter {name!r}")
        if isinstance(node, yaml.MappingNode):
            per = _mapping(node, pack_file, name)
            if set(per) != {"by_country"}:
                raise PackError(pack_file, _line(node), f"{name}: expected periods or by_country")
            _load_by_country(pack, name, per["by_country"], pack_file, folder)
            continue
        timeline = Timeline(name)
        for period in _periods(name, node, pack_file, folder):
            timeline.add(period)
        pack.common[name] = timeline
    return pack


def _load_by_country(pack: Pack, name: str, node: yaml.Node, pack_file: Path, folder: Path) -> None:
    per_country: dict[str, Timeline] = {}
    if isinstance(node, yaml.MappingNode) and {str(k.value) for k, _ in node.value} == {"csv"}:
        csv_name = str(_plain(node.value[0][1]))
        csv_path = folder / csv_name
        if not csv_path.is_file():
            raise PackError(pack_file, _line(node), f"{name}: file {csv_name} not found")
        for country, period in _csv_periods(name, csv_path, folder):
            if country not in pack.countries:
                raise PackError(period.file, period.line, f"{country} is not a pack country")
            per_country.setdefault(country, Timeline(f"{name}.{country}")).add(period)
    else:
        for country, periods in _mapping(node, pack_file, f"{name}.by_country").items():
            if country not in pack.countries:
                raise PackError(pack_file, _line(periods), f"{country} is not a pack country")
            timeline = Timeline(f"{name}.{country}")
            for period in _periods(name, periods, pack_file, folder):
                timeline.add(period)
            per_country[country] = timeline
    pack.by_country[name] = per_country


def load_packs(root: Path = PACKS_DIR) -> dict[str, Pack]:
    """Every pack under `root`, by pack code. Two packs may not claim the same country."""
    packs: dict[str, Pack] = {}
    claimed: dict[str, str] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "pack.yaml").is_file()):
        pack = load_pack(folder)
        for country in pack.countries:
            if country in claimed:
                raise PackError(folder / "pack.yaml", 1, f"{country} already in {claimed[country]}")
            claimed[country] = pack.code
        packs[pack.code] = pack
    return packs
