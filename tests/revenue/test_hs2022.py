"""Tariffs on HS 2022: every subheading of the nomenclature resolves, in every pack, to a rate or
to an explicit reason written in the pack — never to a silent zero."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from clearway.revenue.assessor import PackAssessor

from .factories import filing, item

HS2022 = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "hs_nomenclature"


def _subheadings() -> list[str]:
    with (HS2022 / "hs2022.csv").open(encoding="utf-8-sig") as f:
        return [
            r["hscode"] for r in csv.DictReader(f) if r["level"] == "6" and r["hscode"] != "999999"
        ]


@pytest.mark.parametrize("country", ["DE", "GB", "US", "AU", "CN", "NO", "CH", "CA"])
def test_every_hs2022_subheading_resolves_to_a_rate_or_a_reason(
    country: str, assessor: PackAssessor
) -> None:
    codes = _subheadings()
    assert len(codes) == 5612
    when = date(2026, 11, 2)
    missing = []
    reasons: set[str] = set()
    for code in codes:
        kind, text = assessor.duty_source(country, when, code)
        if kind == "missing":
            missing.append(code)
        elif kind == "reason":
            reasons.add(text)
    assert missing == []
    assert all(len(r) > 20 for r in reasons)  # a sentence, written in the pack


def test_the_anorak_of_hs2022_takes_the_rate_of_its_hs2017_sources(assessor: PackAssessor) -> None:
    # 6201.40 (men's anoraks of man-made fibres) was split out of 6201.13 and 6201.93, all 12 %
    doc = filing("DE", items=[item("200.00", hs="620140")])
    a = assessor.assess(doc, date(2026, 6, 30))
    assert [(c.kind, str(c.amount)) for c in a.charges] == [("duty", "24.00"), ("vat", "42.56")]
    assert "tariff_line_carried_hs2022" in a.flags and "tariff_line_ambiguous" not in a.flags
    [corr] = [t for t in a.trace if t.name == "duty.hs2022_correlation"]
    assert "620113" in corr.value and "620193" in corr.value and "agree" not in corr.value
    assert "all source lines carry this rate" in corr.value and corr.reference is not None


def test_sources_with_different_rates_take_the_highest_and_say_so(assessor: PackAssessor) -> None:
    # 0403.20 (yoghurt, HS 2022) comes from HS 2017 lines with different CET duties
    a = assessor.assess(filing("DE", items=[item("200.00", hs="040320")]), date(2026, 6, 30))
    assert {"tariff_line_carried_hs2022", "tariff_line_ambiguous"} <= set(a.flags)
    [corr] = [t for t in a.trace if t.name == "duty.hs2022_correlation"]
    assert "different rates: the highest" in corr.value
