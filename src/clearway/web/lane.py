"""Why a parcel got its lane, in the terms an officer can check: the risk points against the
policy's thresholds, the reasons that gave the most points, a lane forced by a profile or by
the random control sample, and the model's top contributions.

Points are the sum of the decision's reason weights (rule and validation weights plus the
model's share), as `risk.selection` adds them; the thresholds come from the selector's policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearway.domain.decision import LANE_ORDER, Decision, Reason
from clearway.risk.selection import SelectionPolicy


@dataclass(frozen=True, slots=True)
class LaneExplanation:
    lane: str | None
    points: float
    thresholds: tuple[tuple[str, float], ...]  # (lane, points from which it is proposed)
    proposed: str  # the lane the points alone propose
    forced_by: tuple[Reason, ...]  # reasons that force a lane at least as severe
    top: tuple[Reason, ...]  # reasons with the most points
    budget_downgrade: bool  # the office's inspection budget sent it to audit instead


def policy_of(selector: object) -> SelectionPolicy:
    """The selection policy of the running selector (wrappers expose `inner`)."""
    seen = selector
    for _ in range(4):
        policy = getattr(seen, "policy", None)
        if isinstance(policy, SelectionPolicy):
            return policy
        seen = getattr(seen, "inner", None)
    return SelectionPolicy()


def explain(decision: Decision, policy: SelectionPolicy) -> LaneExplanation:
    points = round(sum(r.weight for r in decision.reasons), 3)
    thresholds = (
        ("red", policy.red_points),
        ("yellow", policy.yellow_points),
        ("blue", policy.blue_points),
    )
    proposed = next((lane for lane, at in thresholds if points >= at), "green")
    lane_rank = LANE_ORDER.get(decision.lane or "green", 0)
    forced = tuple(
        r
        for r in decision.reasons
        if r.outcome in LANE_ORDER
        and LANE_ORDER[str(r.outcome)] >= lane_rank
        and LANE_ORDER[str(r.outcome)] > LANE_ORDER[proposed]
    )
    top = tuple(sorted((r for r in decision.reasons if r.weight), key=lambda r: -r.weight)[:5])
    return LaneExplanation(
        decision.lane,
        points,
        thresholds,
        proposed,
        forced,
        top,
        any(r.code == "POLICY-BUDGET" for r in decision.reasons),
    )
