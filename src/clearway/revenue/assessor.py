"""`PackAssessor`: the pipeline's assessment step, backed by the shipped jurisdiction packs.

Packs, tariffs and FX rates load once per process (`load_default`); the law of a destination on a
day is snapshotted on first use, so assessing a parcel is a handful of dictionary reads and
Decimal multiplications. One bad parcel never fails a batch: it gets a fallback assessment with a
flag and a trace entry saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from clearway.domain.assessment import Assessment, TraceEntry
from clearway.domain.filing import FilingDocument
from clearway.domain.ports import AssessmentRequest
from clearway.kernel.errors import ClearwayError, Problem
from clearway.revenue.calculator import AnnualUsage, Hooks, assess
from clearway.revenue.collection import RegistrationStatus
from clearway.revenue.eligibility import reduced_data_set_problems
from clearway.revenue.fx import FxQuote, FxRule, FxTable, FxUnavailable, load_fx
from clearway.revenue.packs import PACKS_DIR, Pack, load_packs
from clearway.revenue.rules import Rules, snapshot
from clearway.revenue.tariff import Tariff, load_correlation, load_tariff

CORRELATION = Path(__file__).parent / "data" / "hs2022_hs2017.csv"

# Rates loaded after the process started (`clearway rates load`): (day, currency, per EUR) rows.
RateSource = Callable[[], Iterable[tuple[date, str, Decimal]]]
RATE_REFRESH_SECONDS = 60.0
DEFAULT_HORIZON_DAYS = 180


class PackAssessor:
    """Implements `clearway.domain.ports.Assessor` from jurisdiction packs."""

    horizon_days = DEFAULT_HORIZON_DAYS  # how far after today a quote's legal date may be
    rate_source: RateSource | None = None
    rate_refresh_seconds = RATE_REFRESH_SECONDS  # a missing rate re-reads the source this often
    _rates_read_at = 0.0

    def __init__(
        self,
        packs: dict[str, Pack],
        fx: FxTable,
        tariffs: dict[str, Tariff],
        registration_status: RegistrationStatus | None = None,
        annual_usage: AnnualUsage | None = None,
    ) -> None:
        self.packs = packs
        self.fx = fx
        self.tariffs = tariffs
        self.hooks = Hooks(registration_status, annual_usage)
        self._by_country = {c: p for p in packs.values() for c in p.countries}
        self._rules: dict[tuple[str, date], Rules] = {}

    @classmethod
    def load(
        cls,
        root: Path = PACKS_DIR,
        registration_status: RegistrationStatus | None = None,
        annual_usage: AnnualUsage | None = None,
        fx: FxTable | None = None,
    ) -> PackAssessor:
        """Load every pack under `root` (validated) with the tariffs they name."""
        packs = load_packs(root)
        tariffs: dict[str, Tariff] = {}
        correlation = load_correlation(CORRELATION)
        for pack in packs.values():
            timeline = pack.common.get("duty.tariff")
            editions = pack.common.get("duty.tariff_edition")
            hs2017 = editions is not None and any(p.value == "HS2017" for p in editions.periods)
            for period in timeline.periods if timeline else []:
                if period.value is not None and period.value not in tariffs:
                    tariff = load_tariff(pack.folder / period.value)
                    if hs2017:
                        tariff.carry(correlation)
                    tariffs[period.value] = tariff
        return cls(packs, fx or load_fx(), tariffs, registration_status, annual_usage)

    @classmethod
    def load_default(
        cls,
        registration_status: RegistrationStatus | None = None,
        annual_usage: AnnualUsage | None = None,
    ) -> PackAssessor:
        """The shipped packs; loaded once per process and shared when no hooks are given."""
        if registration_status is None and annual_usage is None:
            return _default()
        base = _default()
        return cls(base.packs, base.fx, base.tariffs, registration_status, annual_usage)

    def jurisdictions(self) -> frozenset[str]:
        return frozenset(self._by_country)

    def with_rates(self, source: RateSource) -> PackAssessor:
        """The same law, with the rates `source` gives merged over the shipped ones (read now,
        and again when a rate is missing, at most once a minute)."""
        out = PackAssessor(
            self.packs,
            self.fx,
            self.tariffs,
            self.hooks.registration_status,
            self.hooks.annual_usage,
        )
        out.horizon_days = self.horizon_days
        out.rate_refresh_seconds = self.rate_refresh_seconds
        out.rate_source = source
        out.refresh_rates(force=True)
        return out

    def refresh_rates(self, force: bool = False) -> bool:
        """Merge the rate source's rows again; True when the table changed."""
        if self.rate_source is None:
            return False
        now = time.monotonic()
        if not force and now - self._rates_read_at < self.rate_refresh_seconds:
            return False
        self._rates_read_at = now
        merged = self.fx.merged(self.rate_source())
        changed = merged is not self.fx
        self.fx = merged
        return changed

    def customs_quote(self, source: str, to: str, country: str, when: date) -> FxQuote:
        """The rate `source`→`to` that the destination's law applies on `when` (the pack's
        `fx.rule`, e.g. the EU's monthly rate): for checks outside the calculator, such as the
        EUR 150 limit of the H7 declaration. Raises `FxUnavailable` naming the missing rate."""
        rules = self.rules(country, when)
        rule = FxRule.of(rules.value("fx.rule")) if rules is not None else FxRule("daily")
        try:
            return self.fx.customs_quote(rule, source, to, when)
        except FxUnavailable:
            if not self.refresh_rates():
                raise
            return self.fx.customs_quote(rule, source, to, when)

    def duty_source(self, country: str, when: date, hs: str) -> tuple[str, str]:
        """Where the duty rate of `hs` comes from on `when`: ("rate", the line and its rate) or
        ("reason", why no rate applies — an explicit manual assessment or another regime)."""
        rules = self.rules(country, when)
        if rules is None:
            return "reason", f"no pack covers {country}"
        name = rules.value("duty.tariff")
        tariff = self.tariffs.get(name) if name else None
        hit = tariff.lookup(hs) if tariff is not None else None
        if hit is not None:
            return "rate", f"{hit.rate.text} (line {hit.code})"
        reasons: dict[str, str] = rules.value("duty.unlisted") or {}
        why = next((reasons[hs[:n]] for n in range(len(hs), 1, -1) if hs[:n] in reasons), None)
        if why:
            return "reason", why
        if tariff is None:
            default = rules.value("duty.default_rate")
            if default is not None:
                return "rate", f"default {default}"
            why = rules.value("duty.no_tariff_reason")
            return ("reason", why) if why else ("missing", "no tariff and no reason")
        return "missing", f"no line of {name}"

    def law_problem(self, country: str, when: date, today: date | None = None) -> str | None:
        """Why the law of `country` on `when` cannot be applied: outside the period its pack
        is written for, or further after `today` than the horizon. None when it can."""
        pack = self._by_country.get(country)
        if pack is None:
            return None
        if when < pack.valid_from:
            return (
                f"the {pack.name} pack covers legal dates from {pack.valid_from};"
                f" {when} is earlier: its law is not modelled"
            )
        if pack.valid_until is not None and when > pack.valid_until:
            return f"the {pack.name} pack covers legal dates up to {pack.valid_until}, not {when}"
        if today is not None and (when - today).days > self.horizon_days:
            return (
                f"{when} is more than {self.horizon_days} days after today ({today}): the law of"
                " that day is not known yet"
            )
        return None

    def rules(self, country: str, when: date) -> Rules | None:
        key = (country, when)
        rules = self._rules.get(key)
        if rules is None:
            pack = self._by_country.get(country)
            if pack is None:
                return None
            if len(self._rules) > 20_000:
                self._rules.clear()
            rules = self._rules[key] = snapshot(pack, country, when)
        return rules

    def assess(self, doc: FilingDocument, legal_date: date) -> Assessment:
        """Assess one filing; never raises for a problem in the parcel's data."""
        country = doc.destination_country.upper()
        rules = self.rules(country, legal_date)
        if rules is None:
            return _fallback(
                doc,
                legal_date,
                country,
                "jurisdiction_not_covered",
                f"no pack covers destination {country}",
            )
        outside = self.law_problem(country, legal_date)
        if outside is not None:
            return _fallback(
                doc,
                legal_date,
                rules.jurisdiction,
                "law_period_not_covered",
                outside,
                rules.currency,
            )
        try:
            try:
                return assess(doc, rules, self.fx, self.tariffs, self.hooks)
            except FxUnavailable:
                if not self.refresh_rates():
                    raise
                return assess(doc, rules, self.fx, self.tariffs, self.hooks)
        except ClearwayError as exc:  # e.g. no FX rate for the filing currency on that date
            return _fallback(
                doc, legal_date, rules.jurisdiction, exc.problem_type, exc.detail, rules.currency
            )
        except (ArithmeticError, ValueError) as exc:
            return _fallback(
                doc, legal_date, rules.jurisdiction, "assessment_failed", str(exc), rules.currency
            )

    def data_set_problems(self, doc: FilingDocument, legal_date: date) -> list[Problem]:
        """Why the destination's law refuses the data set `doc` uses (revenue/eligibility.py)."""
        country = doc.destination_country.upper()
        rules = self.rules(country, legal_date)
        if rules is None:
            return []

        def rate(to: str) -> Decimal | None:
            try:
                q = self.customs_quote(doc.currency.upper(), to, country, legal_date)
            except ClearwayError:
                return None
            return q.via_eur[1] / q.via_eur[0]

        return reduced_data_set_problems(doc, rules, rate)

    def assess_batch(self, batch: Sequence[AssessmentRequest]) -> list[Assessment]:
        return [self.assess(r.document, r.legal_date) for r in batch]


def _fallback(
    doc: FilingDocument,
    legal_date: date,
    jurisdiction: str,
    flag: str,
    why: str,
    currency: str | None = None,
) -> Assessment:
    """Nothing computed: an officer must assess by hand (IRG 4, full declaration)."""
    flag = flag.replace("-", "_")
    return Assessment(
        currency=currency or doc.currency,
        jurisdiction=jurisdiction,
        legal_date=legal_date.isoformat(),
        irg_category=1 if doc.category == "documents" else 4,
        collection_model="consumer",
        payable_by="none",
        customs_value=Decimal(0),
        intrinsic_value=Decimal(0),
        flags=[flag, "manual_assessment_required"],
        trace=[TraceEntry("assessment.fallback", why, at=legal_date.isoformat())],
    )


@lru_cache(maxsize=1)
def _default() -> PackAssessor:
    return PackAssessor.load()
