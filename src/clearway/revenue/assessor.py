"""`PackAssessor`: the pipeline's assessment step, backed by the shipped jurisdiction packs.

Packs, tariffs and FX rates load once per process (`load_default`); the law of a destination on a
day is snapshotted on first use, so assessing a parcel is a handful of dictionary reads and
Decimal multiplications. One bad parcel never fails a batch: it gets a fallback assessment with a
flag and a trace entry saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from clearway.domain.assessment import Assessment, TraceEntry
from clearway.domain.filing import FilingDocument
from clearway.domain.ports import AssessmentRequest
from clearway.kernel.errors import ClearwayError
from clearway.revenue.calculator import AnnualUsage, Hooks, assess
from clearway.revenue.collection import RegistrationStatus
from clearway.revenue.fx import FxTable, load_fx
from clearway.revenue.packs import PACKS_DIR, Pack, load_packs
from clearway.revenue.rules import Rules, snapshot
from clearway.revenue.tariff import Tariff, load_tariff


class PackAssessor:
    """Implements `clearway.domain.ports.Assessor` from jurisdiction packs."""

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
        for pack in packs.values():
            timeline = pack.common.get("duty.tariff")
            for period in timeline.periods if timeline else []:
                if period.value is not None and period.value not in tariffs:
                    tariffs[period.value] = load_tariff(pack.folder / period.value)
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
        try:
            return assess(doc, rules, self.fx, self.tariffs, self.hooks)
        except ClearwayError as exc:  # e.g. no FX rate for the filing currency on that date
            return _fallback(
                doc, legal_date, rules.jurisdiction, exc.problem_type, exc.detail, rules.currency
            )
        except (ArithmeticError, ValueError) as exc:
            return _fallback(
                doc, legal_date, rules.jurisdiction, "assessment_failed", str(exc), rules.currency
            )

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
