"""Reasons the pipeline adds to the selector's decision: matching results and revenue that
needs an officer."""

from __future__ import annotations

import msgspec

from clearway.domain.assessment import MANUAL_ASSESSMENT, Assessment
from clearway.domain.decision import Decision, Reason, worst_lane
from clearway.kernel.errors import Problem


def with_match(decision: Decision, match: list[Problem]) -> Decision:
    """Matching results are reasons of their own; a disagreement between legs means at least a
    documentary check. Missing legs only wait (arrival holds a parcel still missing one)."""
    if not match:
        return decision
    reasons = [*decision.reasons, *(Reason("match", p.code, p.message, path=p.path) for p in match)]
    lane = decision.lane
    if lane is not None and any(p.code != "match_leg_missing" for p in match):
        lane = worst_lane(lane, "yellow")  # type: ignore[assignment]
    return Decision(
        lane,
        decision.referral,
        decision.score,
        decision.model_version,
        decision.contributions,
        decision.random_sample,
        reasons,
        decision.policy,
    )


def with_revenue(decision: Decision, assessment: Assessment | None) -> Decision:
    """An assessment the calculator could not complete (no FX rate, an unknown regime…) needs an
    officer: at least a documentary check, and arrival holds it until someone assesses it."""
    if assessment is None or MANUAL_ASSESSMENT not in assessment.flags:
        return decision
    why = ", ".join(f for f in assessment.flags if f != MANUAL_ASSESSMENT)
    # the assessor's own words when it could compute nothing (the currency, day and command)
    said = next((t.value for t in assessment.trace if t.name == "assessment.fallback"), None)
    why = f"{why}: {said}" if said else why
    reason = Reason("revenue", MANUAL_ASSESSMENT, f"duty and tax need an officer ({why})")
    lane = worst_lane(decision.lane, "yellow") if decision.lane else decision.lane
    return msgspec.structs.replace(
        decision,
        lane=lane,
        reasons=[*decision.reasons, reason],
    )
