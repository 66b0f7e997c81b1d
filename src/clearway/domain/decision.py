"""Decisions: a lane (pre-arrival) or a referral (pre-loading), always with the reasons why."""

from __future__ import annotations

from typing import Literal

import msgspec

Lane = Literal["green", "yellow", "red", "blue"]
Referral = Literal[
    "assessment_complete", "request_for_information", "request_for_screening", "do_not_load"
]
ReasonSource = Literal["validation", "rule", "model", "random", "match", "revenue", "account"]
LANE_ORDER: dict[str, int] = {"green": 0, "blue": 1, "yellow": 2, "red": 3}
REFERRAL_ORDER: dict[str, int] = {
    "assessment_complete": 0,
    "request_for_information": 1,
    "request_for_screening": 2,
    "do_not_load": 3,
}


class Reason(msgspec.Struct, omit_defaults=True):
    """Why a decision came out as it did: a rule hit, a model contribution, a sample draw…"""

    source: ReasonSource
    code: str
    text: str
    weight: float = 0.0  # risk points: a score, never an amount of money
    path: str | None = None
    outcome: str | None = None  # a direct outcome the reason forces (lane or referral)


class Contribution(msgspec.Struct):
    feature: str
    value: str
    contribution: float


class Decision(msgspec.Struct, omit_defaults=True):
    """The engine's answer for one consignment."""

    lane: Lane | None = None
    referral: Referral | None = None
    score: float | None = None  # model probability of an irregularity, 0..1
    model_version: str | None = None
    contributions: list[Contribution] = []
    random_sample: bool = False
    reasons: list[Reason] = []
    policy: str | None = None  # which selection policy produced it

    @property
    def needs_officer(self) -> bool:
        return self.lane in ("yellow", "red") or self.referral in (
            "request_for_information",
            "request_for_screening",
            "do_not_load",
        )


def worst_lane(a: str, b: str) -> str:
    return a if LANE_ORDER[a] >= LANE_ORDER[b] else b


def worst_referral(a: str, b: str) -> str:
    return a if REFERRAL_ORDER[a] >= REFERRAL_ORDER[b] else b
