"""Trusted-trader standing in selection: an authorised economic operator gets fewer checks.

Wraps the pipeline's `Selector`. A parcel whose registration number belongs to a valid AEO
registration has its lane lowered one step (red → yellow → green) — unless a rule forced that lane
(a prohibition, a sanctions hit, a dangerous-goods check: those apply to everyone), it is a random
control sample (controls must also reach trusted traders), or it went to post-release audit. The
decision says so with an `account` reason. One dictionary read per parcel.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearway.accounts.registry import Registry
from clearway.domain.decision import LANE_ORDER, Decision, Reason
from clearway.domain.ports import RiskInput, Selector

LOWER = {"red": "yellow", "yellow": "green"}
AEO_WEIGHT = -20.0


class TrustedTraderSelector:
    def __init__(self, inner: Selector, registry: Registry) -> None:
        self.inner = inner
        self.registry = registry

    def decide_batch(self, batch: Sequence[RiskInput]) -> list[Decision]:
        decisions = self.inner.decide_batch(batch)
        for r, d in zip(batch, decisions, strict=True):
            number = r.document.collection.registration_number if r.document.collection else None
            if not number or d.lane not in LOWER or d.random_sample:
                continue
            if not self.registry.trusted(number, r.legal_date):
                continue
            if r.claimants is not None and self.registry.holder(number) not in r.claimants:
                continue  # quoted by someone who does not hold it: no AEO treatment
            forced = any(
                x.outcome in LANE_ORDER and LANE_ORDER[x.outcome] >= LANE_ORDER[d.lane]
                for x in d.reasons
            )
            if forced:
                continue
            lowered = LOWER[d.lane]
            d.reasons.append(
                Reason(
                    source="account",
                    code="AEO",
                    text=f"authorised economic operator ({number}): {d.lane} lowered to {lowered}",
                    weight=AEO_WEIGHT,
                    outcome=lowered,
                )
            )
            d.lane = lowered  # type: ignore[assignment]
        return decisions
