"""The set of figures the report, the dashboard and `clearway stats` show, from either engine.

`DuckStatistics` (one machine) and `distributed.DaskStatistics` (a cluster) answer the same
questions with the same row shapes; `core()` asks them, `collect()` adds the figures only the
DuckDB path computes (overview, registration surveillance, hold durations).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Final, Protocol

from clearway.statistics import measures, timerelease
from clearway.statistics.snapshot import Snapshot

REPORT_DIMENSIONS: Final = (
    "destination_country",
    "dispatch_country",
    "origin_country",
    "hs_chapter",
    "hs_heading",
    "platform",
    "mode",
    "irg_category",
    "collection_model",
    "value_band",
    "lane",
)


class Statistics(Protocol):
    def breakdown(self, dimension: str) -> list[dict[str, Any]]: ...

    def revenue(self) -> list[dict[str, Any]]: ...

    def hit_rate_counts(self) -> list[dict[str, Any]]: ...

    def time_release(self, by: str) -> list[dict[str, Any]]: ...

    def shares(self, by: str) -> list[dict[str, Any]]: ...


class DuckStatistics:
    """The statistics of `measures` and `timerelease` over one snapshot, with DuckDB."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def breakdown(self, dimension: str) -> list[dict[str, Any]]:
        return measures.breakdown(self.snap, dimension)

    def revenue(self) -> list[dict[str, Any]]:
        return measures.revenue(self.snap)

    def hit_rate_counts(self) -> list[dict[str, Any]]:
        return measures.hit_rate_counts(self.snap)

    def time_release(self, by: str) -> list[dict[str, Any]]:
        return timerelease.time_release(self.snap, by)

    def shares(self, by: str) -> list[dict[str, Any]]:
        return timerelease.shares(self.snap, by)


def core(
    stats: Statistics,
    dimensions: tuple[str, ...] = REPORT_DIMENSIONS,
    groups: tuple[str, ...] = timerelease.GROUPS,
) -> dict[str, Any]:
    return {
        "breakdowns": {d: stats.breakdown(d) for d in dimensions},
        "revenue": stats.revenue(),
        "hit_rates": measures.hit_rates(stats.hit_rate_counts()),
        "time_release": {g: stats.time_release(g) for g in groups},
        "release_shares": {g: stats.shares(g) for g in groups},
    }


def collect(snap: Snapshot, dimensions: tuple[str, ...] = REPORT_DIMENSIONS) -> dict[str, Any]:
    """Every figure of the report for the snapshot's period."""
    return {
        "overview": measures.overview(snap),
        **core(DuckStatistics(snap), dimensions),
        "registrations": measures.registrations(snap, limit=25),
        "hold_durations": timerelease.hold_durations(snap),
    }


def jsonable(obj: Any) -> Any:
    """Decimals as strings (exact), dates as ISO strings; floats stay numbers."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj
