"""Edited profile versions applied by the selector (`risk.overrides`), without a database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from risk_factories import make_input, make_item

from clearway.domain.decision import Decision
from clearway.risk.overrides import CachedOverrides, ProfileOverride
from clearway.risk.selector import RiskSelector

TODAY = date(2025, 3, 1)
TOMORROW = date(2025, 3, 2)
PEPPER = make_item("Pepper spray 50 ml", "330790", value="9.00")
BLADE = "WPN-BLADE-STUN"  # shipped: weight 60, lane red, from 2020-01-01


class Versions:
    """Versions in force per day, and how often each day was asked for."""

    def __init__(self, by_day: dict[date, dict[str, ProfileOverride]] | None = None) -> None:
        self.by_day = by_day or {}
        self.asked: list[date] = []

    def overrides(self, day: date) -> Mapping[str, ProfileOverride]:
        self.asked.append(day)
        return self.by_day.get(day, {})


def version(
    *,
    active: bool = True,
    weight: float = 60.0,
    lane: str | None = "red",
    referral: str | None = "request_for_screening",
    reason: str = "Offensive weapons (edited)",
) -> ProfileOverride:
    return ProfileOverride(1, active, weight, lane, referral, reason)


def selector(versions: Versions | None) -> RiskSelector:
    return RiskSelector.load_default(
        sample_rate=0.0, budget=1.0, overrides=versions, overrides_ttl=0
    )


def rule(d: Decision, code: str = BLADE) -> list[tuple[str, float | None, str | None]]:
    return [(r.text, r.weight, r.outcome) for r in d.reasons if r.code == code]


def test_deactivation_applies_from_its_legal_date_only() -> None:
    versions = Versions({TOMORROW: {BLADE: version(active=False)}})
    s = selector(versions)
    today, tomorrow = s.decide_batch(
        [
            make_input(1, items=[PEPPER], legal_date=TODAY),
            make_input(2, items=[PEPPER], legal_date=TOMORROW),
        ]
    )
    assert today.lane == "red" and rule(today) == [
        ("Offensive weapons (flick knives, knuckle dusters, stun guns, pepper spray)", 60, "red")
    ]
    assert tomorrow.lane == "green" and rule(tomorrow) == []
    assert s.tracker.hits.get(BLADE) == 1  # the inactive profile is not counted either
    assert sorted(set(versions.asked)) == [TODAY, TOMORROW]


def test_weight_lane_and_reason_of_the_version_replace_the_shipped_ones() -> None:
    edited = version(weight=0.0, lane="yellow", referral=None, reason="Pepper spray: documents")
    s = selector(Versions({TODAY: {BLADE: edited}}))
    [d] = s.decide_batch([make_input(1, items=[PEPPER], legal_date=TODAY)])
    assert d.lane == "yellow"
    assert rule(d) == [("Pepper spray: documents", 0.0, "yellow")]
    # pre-loading: the version's referral (none) replaces the shipped request_for_screening
    [pre] = s.decide_batch(
        [make_input(2, items=[PEPPER], legal_date=TODAY, data_set="pre_loading")]
    )
    assert pre.referral == "assessment_complete"
    assert rule(pre) == [("Pepper spray: documents", 0.0, None)]


def test_a_weight_alone_changes_the_proposed_lane() -> None:
    edited = version(weight=35.0, lane=None, referral=None)
    s = selector(Versions({TODAY: {BLADE: edited}}))
    [d] = s.decide_batch([make_input(1, items=[PEPPER], legal_date=TODAY)])
    assert d.lane == "yellow"  # 35 points: yellow from 30, no red floor any more
    assert rule(d) == [("Offensive weapons (edited)", 35.0, None)]


def test_an_active_version_applies_outside_the_shipped_dates() -> None:
    before = date(2019, 6, 1)  # before the shipped `from`
    plain = selector(None).decide_batch([make_input(1, items=[PEPPER], legal_date=before)])
    assert rule(plain[0]) == []
    s = selector(Versions({before: {BLADE: version()}}))
    [d] = s.decide_batch([make_input(1, items=[PEPPER], legal_date=before)])
    assert d.lane == "red" and rule(d) == [("Offensive weapons (edited)", 60.0, "red")]


def test_without_versions_in_force_decisions_are_the_shipped_ones() -> None:
    inputs = [
        make_input(1, items=[PEPPER]),
        make_input(2, items=[make_item("fireworks assorted", "360410")]),
        make_input(3, items=[make_item("gift", "950300", value="0.00")]),
        make_input(4),
        make_input(5, items=[PEPPER], data_set="pre_loading"),
    ]
    other_day = Versions({TOMORROW: {BLADE: version(active=False)}})
    assert selector(other_day).decide_batch(inputs) == selector(None).decide_batch(inputs)


def test_cached_overrides_are_read_again_after_the_ttl_or_an_invalidation() -> None:
    now = [100.0]
    versions = Versions({TODAY: {BLADE: version(active=False)}})
    cached = CachedOverrides(versions, ttl=2.0, monotonic=lambda: now[0])
    assert cached.overrides(TODAY)[BLADE].active is False
    versions.by_day[TODAY] = {BLADE: version(active=True)}
    now[0] += 1.5
    assert cached.overrides(TODAY)[BLADE].active is False  # still within the TTL
    assert versions.asked == [TODAY]
    now[0] += 1.0
    assert cached.overrides(TODAY)[BLADE].active is True
    versions.by_day[TODAY] = {}
    cached.invalidate()
    assert cached.overrides(TODAY) == {}
    assert versions.asked == [TODAY, TODAY, TODAY]


def test_load_default_caches_the_overrides_for_a_short_time() -> None:
    versions = Versions()
    s = RiskSelector.load_default(sample_rate=0.0, overrides=versions)
    assert isinstance(s.overrides, CachedOverrides) and s.overrides.ttl == 2.0
    for n in range(3):
        s.decide_batch([make_input(n, legal_date=TODAY)])
    assert versions.asked == [TODAY]
    given = CachedOverrides(versions, ttl=5.0)
    assert RiskSelector.load_default(overrides=given).overrides is given
