from __future__ import annotations

from datetime import date

import pytest
from risk_factories import make_input, make_item

from clearway.domain.ports import Selector
from clearway.kernel.errors import Problem
from clearway.risk.history import EntityStat, InMemoryHistory
from clearway.risk.selection import SelectionPolicy
from clearway.risk.selector import RiskSelector


@pytest.fixture(scope="module")
def selector() -> RiskSelector:
    return RiskSelector.load_default(sample_rate=0.0, budget=1.0)


def test_is_a_selector(selector: RiskSelector) -> None:
    s: Selector = selector
    assert s.decide_batch([]) == []


def test_clean_parcel_goes_green_with_no_reasons(selector: RiskSelector) -> None:
    [d] = selector.decide_batch([make_input()])
    assert d.lane == "green"
    assert d.referral is None
    assert d.reasons == []
    assert d.random_sample is False
    assert d.policy is not None and d.policy.startswith("risk-v1/rules")


def test_one_decision_per_input_in_order(selector: RiskSelector) -> None:
    inputs = [
        make_input(1),
        make_input(2, items=[make_item("fireworks assorted", "360410")]),
        make_input(3),
    ]
    lanes = [d.lane for d in selector.decide_batch(inputs)]
    assert lanes == ["green", "red", "green"]


@pytest.mark.parametrize(
    ("description", "hs", "code", "lane"),
    [
        ("Glock 17 pistol slide", "930590", "WPN-FIREARM", "red"),
        ("USB stun gun 5000kV", "854370", "WPN-BLADE-STUN", "red"),
        ("night vision monocular", "900510", "STR-DUAL-USE", "yellow"),
        ("butane lighter refill", "271111", "DG-FLAMMABLE", "yellow"),
        ("Rolex Submariner watch", "910221", "IPR-BRAND-CHEAP", "yellow"),
    ],
)
def test_profiles_force_lanes(
    selector: RiskSelector, description: str, hs: str, code: str, lane: str
) -> None:
    [d] = selector.decide_batch([make_input(items=[make_item(description, hs)])])
    assert code in {r.code for r in d.reasons}
    assert d.lane == lane
    hit = next(r for r in d.reasons if r.code == code)
    assert hit.source == "rule" and hit.weight > 0 and hit.text


def test_lithium_battery_adds_points_without_forcing_a_lane(selector: RiskSelector) -> None:
    [d] = selector.decide_batch([make_input(items=[make_item("Li-ion battery 18650", "850760")])])
    assert [r.code for r in d.reasons] == ["DG-LITHIUM"]
    assert d.lane == "blue"  # 20 points: post-release audit band


def test_sanctioned_consignee_by_fuzzy_name(selector: RiskSelector) -> None:
    [d] = selector.decide_batch([make_input(consignee="Banco Nacional de Cuba S.A.")])
    assert d.lane == "red"
    hit = next(r for r in d.reasons if r.code == "SAN-PARTY")
    assert "OFAC-SDN" in hit.text


def test_ordinary_names_are_not_sanctioned(selector: RiskSelector) -> None:
    names = ["Maria Schmidt", "Hans Müller GmbH", "Li Wei", "Amazon EU Sarl", "Ahmed Khan"]
    decisions = selector.decide_batch([make_input(i, consignee=n) for i, n in enumerate(names)])
    assert all("SAN-PARTY" not in {r.code for r in d.reasons} for d in decisions)


def test_hs_inconsistent_with_description(selector: RiskSelector) -> None:
    phone = make_item("Smartphone 128GB", "392690", value="300")
    case = make_item("smartphone case", "392690")
    [d1, d2] = selector.decide_batch([make_input(1, items=[phone]), make_input(2, items=[case])])
    assert "DQ-HS-PHONE" in {r.code for r in d1.reasons}
    assert "DQ-HS-PHONE" not in {r.code for r in d2.reasons}


def test_undervaluation_against_reference_price() -> None:
    history = InMemoryHistory(prices={"EUR": {"851713": 250.0}})
    sel = RiskSelector.load_default(sample_rate=0.0, budget=1.0, history=history)
    low = make_input(1, items=[make_item("phone", "851713", value="60")], currency="EUR")
    fair = make_input(2, items=[make_item("phone", "851713", value="240")], currency="EUR")
    d_low, d_fair = sel.decide_batch([low, fair])
    assert "FIS-UNDERVALUED-REF" in {r.code for r in d_low.reasons}
    assert "FIS-UNDERVALUED-REF" not in {r.code for r in d_fair.reasons}


def test_gift_sold_by_a_seller(selector: RiskSelector) -> None:
    [d] = selector.decide_batch([make_input(category="gift")])
    assert "FIS-GIFT-FROM-SELLER" in {r.code for r in d.reasons}
    [d2] = selector.decide_batch([make_input(category="gift", seller=None)])
    assert "FIS-GIFT-FROM-SELLER" not in {r.code for r in d2.reasons}


def test_validation_findings_become_weighted_reasons(selector: RiskSelector) -> None:
    findings = [
        Problem("items/0/net_mass_kg", "mass_implausible", "0.01 kg for a laptop", "warning"),
        Problem("items", "totals_mismatch", "items sum to 40, order says 90", "warning"),
        Problem("items/0/description", "vague_description", "'stuff' is too vague", "warning"),
    ]
    [d] = selector.decide_batch([make_input(findings=findings)])
    found = [r for r in d.reasons if r.source == "validation"]
    assert [r.code for r in found] == ["mass_implausible", "totals_mismatch", "vague_description"]
    assert found[0].path == "items/0/net_mass_kg"
    assert d.lane == "yellow"  # 30 points


def test_profiles_are_dated(selector: RiskSelector) -> None:
    fireworks = [make_item("fireworks", "360410")]
    [before] = selector.decide_batch([make_input(items=fireworks, legal_date=date(2019, 6, 1))])
    [after] = selector.decide_batch([make_input(items=fireworks, legal_date=date(2024, 6, 1))])
    assert before.lane == "green"
    assert after.lane == "red"


def test_tracker_counts_hits_and_outcomes() -> None:
    sel = RiskSelector.load_default(sample_rate=0.0, budget=1.0)
    [d] = sel.decide_batch([make_input(items=[make_item("fireworks", "360410")])])
    assert sel.tracker.hits["DG-EXPLOSIVE"] == 1
    sel.tracker.record_outcome(d, irregular=True)
    assert sel.tracker.hit_rate("DG-EXPLOSIVE") == 1.0
    assert sel.tracker.hit_rate("WPN-FIREARM") is None


def test_new_seller_uses_history() -> None:
    from clearway.risk.profiles import parse_profiles

    profiles = parse_profiles(
        {
            "profiles": [
                {
                    "id": "NEW-SELLER",
                    "owner": "t",
                    "reason": "first parcel from this seller",
                    "weight": 16,
                    "when": [{"new_party": "seller"}],
                }
            ]
        },
        "test",
    )
    history = InMemoryHistory(stats={"seller": {"KNOWN SELLER": EntityStat(10, 2, 0)}})
    sel = RiskSelector(profiles=profiles, policy=SelectionPolicy(sample_rate=0), history=history)
    known, new, unnamed = sel.decide_batch(
        [
            make_input(1, seller="Known Seller"),
            make_input(2, seller="Fresh Shop"),
            make_input(3, seller=None),
        ]
    )
    assert known.reasons == []
    assert [r.code for r in new.reasons] == ["NEW-SELLER"]
    assert new.lane == "blue"
    assert [r.code for r in unnamed.reasons] == ["NEW-SELLER"]
