"""Reviewing a risk-profile change before it is saved: what changes against the version in
force today (a diff), how many parcels of the last days would have got another lane, and
whether the change reaches back in time.

The impact replays each recent decision the profile took part in (`web_rule_hits`): the other
reasons keep their points and forced outcomes, this profile's reason gets the proposed weight,
lane and active flag, and the policy's thresholds give the lane again. Parcels the profile did
not hit are unaffected, since an edit changes the profile's weight and outcome, not its
conditions. The office budget and later officer actions are not replayed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Engine, select

from clearway.domain.decision import LANE_ORDER, Decision
from clearway.risk.profiles import Profile
from clearway.risk.selection import SelectionPolicy
from clearway.storage import tables as t
from clearway.storage import tables_web as w
from clearway.storage.profile_versions import ProfileVersion

FIELDS = ("active", "weight", "lane", "referral", "reason", "effective_from", "effective_until")
IMPACT_DAYS = 30
_DECISION = msgspec.json.Decoder(Decision)


@dataclass(frozen=True, slots=True)
class Current:
    """The profile as it stands today: the edited version in force, else the shipped rule."""

    source: str  # "shipped" or "v<n>"
    values: dict[str, str]


def current(profile: Profile, version: ProfileVersion | None, today: date) -> Current:
    if version is not None:
        return Current(
            f"v{version.version}",
            {
                "active": "yes" if version.active else "no",
                "weight": str(version.weight),
                "lane": version.lane or "",
                "referral": version.referral or "",
                "reason": version.reason,
                "effective_from": today.isoformat(),
                "effective_until": version.effective_until.isoformat()
                if version.effective_until
                else "",
            },
        )
    return Current(
        "shipped",
        {
            "active": "yes",
            "weight": f"{profile.weight:g}",
            "lane": profile.lane or "",
            "referral": profile.referral or "",
            "reason": profile.reason,
            "effective_from": today.isoformat(),
            "effective_until": "",
        },
    )


def diff(now: Current, proposed: dict[str, str]) -> list[tuple[str, str, str]]:
    """(field, today, proposed) for each field the proposal changes."""
    out = []
    for name in FIELDS:
        if name in ("effective_from", "effective_until"):
            continue
        before, after = now.values.get(name, ""), proposed.get(name, "").strip()
        if name == "weight":
            try:
                same = float(before) == float(after)
            except ValueError:
                same = False
        else:
            same = before == after
        if not same:
            out.append((name, before, after))
    return out


@dataclass(frozen=True, slots=True)
class Impact:
    days: int
    hit: int  # parcels the profile took part in
    changed: list[tuple[str, str, int]]  # (lane before, lane after, parcels)

    @property
    def total_changed(self) -> int:
        return sum(n for _, _, n in self.changed)


def impact(
    engine: Engine,
    profile_id: str,
    proposed: dict[str, str],
    policy: SelectionPolicy,
    now: datetime,
    days: int = IMPACT_DAYS,
) -> Impact:
    c = t.consignments.c
    h = w.web_rule_hits.c
    since = now - timedelta(days=days)
    q = (
        select(c.lane, c.decision)
        .join(w.web_rule_hits, h.consignment_id == c.id)
        .where(h.profile_id == profile_id, c.created_at >= since, c.lane.is_not(None))
        .limit(50_000)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    active = proposed.get("active") == "yes"
    try:
        weight = float(proposed.get("weight") or 0) if active else 0.0
    except ValueError:
        weight = 0.0
    lane = proposed.get("lane") or None if active else None
    moved: Counter[tuple[str, str]] = Counter()
    for old_lane, raw in rows:
        if not raw:
            continue
        d = _DECISION.decode(raw)
        others = [r for r in d.reasons if not (r.source == "rule" and r.code == profile_id)]
        points = sum(r.weight for r in others) + weight
        forced = max(
            (LANE_ORDER[str(r.outcome)] for r in others if r.outcome in LANE_ORDER), default=0
        )
        if lane in LANE_ORDER:
            forced = max(forced, LANE_ORDER[str(lane)])
        by_points = _lane_of(points, policy)
        new = max(LANE_ORDER[by_points], forced)
        new_lane = next(k for k, v in LANE_ORDER.items() if v == new)
        if new_lane != old_lane:
            moved[(str(old_lane), new_lane)] += 1
    changed = [(a, b, n) for (a, b), n in moved.most_common()]
    return Impact(days, len(rows), changed)


def _lane_of(points: float, policy: SelectionPolicy) -> str:
    if points >= policy.red_points:
        return "red"
    if points >= policy.yellow_points:
        return "yellow"
    if points >= policy.blue_points:
        return "blue"
    return "green"


def fields_of(version: ProfileVersion) -> dict[str, str]:
    """A stored version as the form's fields (to diff a proposal against today's version)."""
    return {
        "active": "yes" if version.active else "no",
        "weight": str(version.weight),
        "lane": version.lane or "",
        "referral": version.referral or "",
        "reason": version.reason,
        "effective_from": version.effective_from.isoformat(),
        "effective_until": version.effective_until.isoformat() if version.effective_until else "",
    }


def as_form(values: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if k in FIELDS or k == "note"}
