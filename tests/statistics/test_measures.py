"""Statistics building blocks: confidence intervals, periods, value bands, hit-rate groups."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from clearway.kernel.errors import DomainError
from clearway.statistics import measures
from clearway.statistics.snapshot import NotASnapshot, Period, Snapshot, parse_period
from clearway.storage.export import export
from tests.statistics.conftest import Traffic


def test_wilson_interval_known_values() -> None:
    # 0 of 10: (0, z²/(n+z²)) = (0, 3.8415/13.8415) ≈ 0.2775
    low, high = measures.wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.27753, abs=1e-5)
    # 5 of 10: symmetric around 0.5, half-width 1.96·sqrt(0.025 + 0.0096)/1.384 ≈ 0.2634
    low, high = measures.wilson(5, 10)
    assert (low, high) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))
    assert measures.wilson(0, 0) == (0.0, 1.0)


def test_hit_rates_lift_over_the_random_baseline() -> None:
    counts = [
        {"group": "baseline", "key": "random sample", "inspected": 200, "found": 10},
        {"group": "lane", "key": "red", "inspected": 50, "found": 20},
    ]
    base, red = measures.hit_rates(counts)
    assert base["hit_rate"] == 0.05 and base["lift"] == 1.0
    assert red["hit_rate"] == 0.4 and red["lift"] == pytest.approx(8.0)
    assert red["ci_low"] < 0.4 < red["ci_high"]


def test_periods() -> None:
    assert parse_period(None) == Period()
    assert parse_period("2026-11-02") == Period(date(2026, 11, 2), date(2026, 11, 2))
    assert parse_period("2026-12") == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert parse_period("2026-02") == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert parse_period("..2026-11-30") == Period(None, date(2026, 11, 30))
    for bad in ("2026-13", "yesterday", "2026-11-05..2026-11-01"):
        with pytest.raises(DomainError):
            parse_period(bad)


def test_value_bands_are_inclusive_upper_edges() -> None:
    assert measures.value_band_labels("EUR")[:3] == ["≤ 22", "22–45", "45–150"]
    assert measures.value_band_edges("GBP")[1] == Decimal("135")
    with pytest.raises(DomainError, match="no value bands"):
        measures.value_band_edges("XAF")


def test_breakdowns_and_ground_truth(sqlite_traffic: Traffic, tmp_path: Path) -> None:
    traffic = sqlite_traffic
    export(traffic.services.engine, tmp_path / "snap")
    with Snapshot(tmp_path / "snap") as snap:
        overview = measures.overview(snap)
        by_band = measures.breakdown(snap, "value_band")
        by_chapter = measures.breakdown(snap, "hs_chapter")
        counts = measures.hit_rate_counts(snap)
        with pytest.raises(DomainError, match="unknown dimension"):
            measures.breakdown(snap, "weekday")
    assert sum(r["parcels"] for r in by_band) == overview["parcels"]
    assert sum(r["value"] for r in by_band) == overview["value"]
    assert sum(r["items"] for r in by_chapter) == overview["items"]
    inspected = sum(r["inspected"] for r in counts if r["group"] in ("baseline", "lane"))
    found = sum(r["found"] for r in counts if r["group"] in ("baseline", "lane"))
    assert inspected == len(traffic.inspected)
    assert found == sum(traffic.inspected.values())


def test_not_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(NotASnapshot):
        Snapshot(tmp_path)
