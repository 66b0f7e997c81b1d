"""Selection policy: from risk points, forced outcomes and samples to lanes within a budget.

Points = rule weights + validation weights + model_weight x model score. Points map to a
proposed lane (red, yellow, blue, green by thresholds); a rule may force a lane at least as
severe. Officer lanes (yellow, red) spend an inspection budget: each decided consignment adds
`budget` tokens to its office's bucket, each selection spends one; at most `burst` unused tokens
carry over to the next batch (an office starts with one). Forced
lanes and control samples always pass (and still spend); other candidates, riskiest first, pass
while the bucket holds a whole token, and otherwise go to post-release audit (blue).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from clearway.domain.decision import LANE_ORDER

FloatArray = npt.NDArray[np.float64]
OFFICER_LANES = ("yellow", "red")
_LANES_BY_ORDER = {v: k for k, v in LANE_ORDER.items()}


@dataclass(frozen=True)
class SelectionPolicy:
    name: str = "risk-v1"
    budget: float = 0.05  # share of traffic for yellow + red, per office
    office_budgets: Mapping[str, float] = field(default_factory=dict)
    burst: float = 50.0  # most unused inspections an office can save up
    sample_rate: float = 0.01
    seed: int = 0
    random_lane: str = "red"
    red_points: float = 60.0
    yellow_points: float = 30.0
    blue_points: float = 15.0
    model_weight: float = 60.0  # points for a model score of 1.0
    screening_points: float = 50.0  # pre-loading: request_for_screening from this many points
    information_points: float = 10.0  # pre-loading: request_for_information from this many
    validation_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "vague_description": 10.0,
            "mass_implausible": 10.0,
            "totals_mismatch": 10.0,
            "hs_unknown": 10.0,
            "hs_description_mismatch": 10.0,
            "value_missing": 10.0,
        }
    )
    default_validation_weight: float = 5.0

    def budget_for(self, office: str) -> float:
        return self.office_budgets.get(office, self.budget)

    def describe(self, model_version: str | None) -> str:
        scorer = f"rules+model:{model_version}" if model_version else "rules"
        return (
            f"{self.name}/{scorer}/budget={self.budget}/sample={self.sample_rate}/seed={self.seed}"
        )


def proposed_lanes(points: FloatArray, policy: SelectionPolicy) -> npt.NDArray[np.int64]:
    """Lane order (see LANE_ORDER) proposed by points alone."""
    lanes = np.full(len(points), LANE_ORDER["green"], dtype=np.int64)
    lanes[points >= policy.blue_points] = LANE_ORDER["blue"]
    lanes[points >= policy.yellow_points] = LANE_ORDER["yellow"]
    lanes[points >= policy.red_points] = LANE_ORDER["red"]
    return lanes


def lane_name(order: int) -> str:
    return _LANES_BY_ORDER[int(order)]


class InspectionBudget:
    """Token buckets per office; shared by all batches a selector decides."""

    def __init__(self, policy: SelectionPolicy) -> None:
        self.policy = policy
        self.tokens: dict[str, float] = {}
        self.decided: dict[str, int] = {}
        self.selected: dict[str, int] = {}

    def apply(
        self,
        offices: Sequence[str],
        lanes: npt.NDArray[np.int64],
        points: FloatArray,
        mandatory: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.bool_]:
        """Downgrade officer lanes that do not fit the budget to blue, in place.

        Returns the mask of consignments downgraded.
        """
        officer = lanes >= LANE_ORDER["yellow"]
        downgraded = np.zeros(len(lanes), dtype=bool)
        office_arr = np.asarray(offices, dtype=object)
        for office in dict.fromkeys(offices):
            rows = np.flatnonzero(office_arr == office)
            share = self.policy.budget_for(office)
            saved = min(self.tokens.get(office, 1.0), max(self.policy.burst, 1.0))
            tokens = saved + share * len(rows)
            forced = rows[officer[rows] & mandatory[rows]]
            tokens -= len(forced)
            candidates = rows[officer[rows] & ~mandatory[rows]]
            order = candidates[np.argsort(-points[candidates], kind="stable")]
            for row in order:
                if tokens >= 1.0:
                    tokens -= 1.0
                else:
                    lanes[row] = LANE_ORDER["blue"]
                    downgraded[row] = True
            self.tokens[office] = min(tokens, max(self.policy.burst, 1.0))
            self.decided[office] = self.decided.get(office, 0) + len(rows)
            self.selected[office] = self.selected.get(office, 0) + int(
                (lanes[rows] >= LANE_ORDER["yellow"]).sum()
            )
        return downgraded

    def share(self, office: str) -> float:
        """Share of an office's decided consignments that went to an officer lane."""
        decided = self.decided.get(office, 0)
        return self.selected.get(office, 0) / decided if decided else 0.0
