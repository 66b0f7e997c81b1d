from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_factories import make_input

from clearway.kernel.errors import Problem
from clearway.risk.sampling import draw, sampled
from clearway.risk.selection import InspectionBudget, SelectionPolicy
from clearway.risk.selector import RiskSelector

WARNINGS = ("mass_implausible", "totals_mismatch", "hs_unknown")


@given(st.text(min_size=1, max_size=40), st.integers(min_value=0, max_value=2**31))
def test_draw_is_reproducible_and_in_unit_interval(cid: str, seed: int) -> None:
    u = draw(cid, seed)
    assert 0.0 <= u < 1.0
    assert draw(cid, seed) == u


def test_sample_rate_is_met_and_seed_changes_the_sample() -> None:
    ids = [f"LX{i:08d}5CN" for i in range(40_000)]
    a = sampled(ids, 7, 0.02)
    b = sampled(ids, 8, 0.02)
    assert abs(a.mean() - 0.02) < 0.003
    assert abs(b.mean() - 0.02) < 0.003
    assert (a & b).sum() < 0.2 * a.sum()  # independent draws overlap at about rate^2


def test_sampling_does_not_depend_on_batching() -> None:
    sel_a = RiskSelector.load_default(seed=3, sample_rate=0.2, budget=1.0)
    sel_b = RiskSelector.load_default(seed=3, sample_rate=0.2, budget=1.0)
    inputs = [make_input(i) for i in range(300)]
    whole = [d.random_sample for d in sel_a.decide_batch(inputs)]
    one_by_one = [sel_b.decide_batch([x])[0].random_sample for x in inputs]
    assert whole == one_by_one
    assert 30 < sum(whole) < 90


def test_control_sample_goes_to_the_random_lane_with_a_reason() -> None:
    sel = RiskSelector.load_default(seed=1, sample_rate=1.0, budget=0.0)
    [d] = sel.decide_batch([make_input()])
    assert d.random_sample is True
    assert d.lane == "red"
    assert [r.source for r in d.reasons] == ["random"]


def test_budget_caps_officer_lanes_and_keeps_the_riskiest() -> None:
    policy = SelectionPolicy(budget=0.1, burst=1.0)
    budget = InspectionBudget(policy)
    n = 100
    points = np.linspace(0, 99, n)
    lanes = np.full(n, 3, dtype=np.int64)  # all red candidates
    mandatory = np.zeros(n, dtype=bool)
    down = budget.apply(["X"] * n, lanes, points, mandatory)
    kept = np.flatnonzero(~down)
    assert len(kept) == 11  # the starting token + 0.1 x 100
    assert set(kept) == set(range(89, 100))
    assert (lanes[down] == 1).all()  # downgraded to blue


def test_mandatory_lanes_pass_even_without_budget() -> None:
    budget = InspectionBudget(SelectionPolicy(budget=0.0, burst=1.0))
    lanes = np.array([3, 3, 2], dtype=np.int64)
    down = budget.apply(["X"] * 3, lanes, np.array([1.0, 2.0, 3.0]), np.array([True, True, False]))
    assert list(down) == [False, False, True]
    assert list(lanes) == [3, 3, 1]


def test_office_budgets_are_separate() -> None:
    policy = SelectionPolicy(budget=0.0, office_budgets={"BIG": 1.0}, burst=1.0, sample_rate=0.0)
    budget = InspectionBudget(policy)
    lanes = np.array([2, 2, 2, 2], dtype=np.int64)
    down = budget.apply(
        ["BIG", "BIG", "SMALL", "SMALL"], lanes, np.ones(4), np.zeros(4, dtype=bool)
    )
    assert list(down) == [False, False, False, True]  # SMALL's starting token buys one
    assert budget.share("BIG") == 1.0


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=0.0, max_value=0.5), st.integers(min_value=0, max_value=1000))
def test_share_of_officer_lanes_respects_budget(share: float, seed: int) -> None:
    sel = RiskSelector.load_default(seed=seed, sample_rate=0.0, budget=share)
    findings = [Problem("items", code, "suspicious", "warning") for code in WARNINGS]
    # distinct consignees: one consignee's 200 parcels of a day would be a split shipment
    inputs = [make_input(i, findings=findings, consignee=f"Consignee {i}") for i in range(200)]
    decisions = sel.decide_batch(inputs)
    officer = sum(d.lane in ("yellow", "red") for d in decisions)
    assert officer <= 1 + share * 200
    assert officer >= int(share * 200)  # the budget is used, not wasted
    assert all(d.lane in ("yellow", "red", "blue") for d in decisions)
