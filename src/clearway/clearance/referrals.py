"""Pre-loading referrals stick until resolved by the action they name.

A `request_for_information`, `request_for_screening` or `do_not_load` answered on pre-loading
data stays open when later legs complete the parcel: the new decision keeps the referral, the
reasons that raised it (so profile hit counts keep it) and a lane no lower than the referral's
floor. Only its named resolution closes it, recorded as a `resolve_referral` event by an officer:
information supplied (a request for information), a screening result (a request for
screening), an officer's decision (do not load).
"""

from __future__ import annotations

import msgspec

from clearway.domain.decision import REFERRAL_ORDER, Decision, Reason, worst_lane, worst_referral
from clearway.kernel.errors import DomainError

OPEN = frozenset({"request_for_information", "request_for_screening", "do_not_load"})
# the resolution each referral names, and the lowest lane while it is open
RESOLUTIONS: dict[str, str] = {
    "request_for_information": "information_supplied",
    "request_for_screening": "screening_result",
    "do_not_load": "officer_decision",
}
FLOOR: dict[str, str] = {
    "request_for_information": "yellow",
    "request_for_screening": "red",
    "do_not_load": "red",
}
OPEN_CODE = "referral_open"


def is_open(decision: Decision | None) -> bool:
    return decision is not None and decision.referral in OPEN


def keep_open(new: Decision, prior: Decision | None) -> Decision:
    """The new decision, with the prior decision's open referral carried over."""
    if prior is None or prior.referral not in OPEN:
        return new
    referral = worst_referral(new.referral or "assessment_complete", prior.referral)
    lane = worst_lane(new.lane, FLOOR[referral]) if new.lane else new.lane
    codes = {r.code for r in new.reasons}
    carried = [r for r in prior.reasons if r.code not in codes and r.code != OPEN_CODE]
    marker = Reason(
        "rule",
        OPEN_CODE,
        f"pre-loading referral {referral.replace('_', ' ')} stays open until "
        f"{RESOLUTIONS[referral].replace('_', ' ')}",
        outcome=referral,
    )
    return msgspec.structs.replace(
        new,
        referral=referral,
        lane=lane,
        reasons=[*new.reasons, *carried, marker],
    )


def resolve(decision: Decision | None, resolution: str, note: str) -> Decision:
    """Close the open referral with its named resolution (else a DomainError saying which)."""
    if decision is None or decision.referral not in OPEN:
        raise DomainError("no open pre-loading referral on this consignment")
    named = RESOLUTIONS[decision.referral]
    if resolution != named:
        raise DomainError(
            f"a {decision.referral.replace('_', ' ')} is resolved by {named.replace('_', ' ')}"
        )
    reasons = [r for r in decision.reasons if r.code != OPEN_CODE]
    reasons.append(
        Reason(
            "rule", "referral_resolved", f"{decision.referral.replace('_', ' ')} resolved: {note}"
        )
    )
    return msgspec.structs.replace(decision, referral="assessment_complete", reasons=reasons)


__all__ = ["OPEN", "REFERRAL_ORDER", "RESOLUTIONS", "is_open", "keep_open", "resolve"]
