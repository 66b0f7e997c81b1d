"""What the analyst dashboard pages show: one call, JSON-ready (amounts as decimal strings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clearway.statistics.figures import collect, jsonable
from clearway.statistics.snapshot import Period, Snapshot

DASHBOARD_DIMENSIONS = (
    "destination_country",
    "origin_country",
    "hs_chapter",
    "platform",
    "collection_model",
    "value_band",
    "lane",
)


def summary(snapshot_dir: Path, period: Period | None = None) -> dict[str, Any]:
    """Overview, breakdowns, revenue, hit rates, time release and registration surveillance of
    the snapshot (optionally one period of it). Keys: `overview`, `breakdowns` (per dimension),
    `revenue`, `hit_rates`, `time_release` and `release_shares` (per lane, office, mode,
    agency), `registrations`, `hold_durations`."""
    with Snapshot(snapshot_dir, period) as snap:
        data: dict[str, Any] = jsonable(collect(snap, DASHBOARD_DIMENSIONS))
    return data
