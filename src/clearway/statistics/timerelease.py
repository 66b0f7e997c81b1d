"""Time-release study (WCO TRS style) from the lifecycle events of a snapshot.

Per consignment, milestones are read from its events: `filed` (first `file`), `decided` (last
`decide`, the decision in force), `arrived` (first `arrive`), `held` (first `hold` or
`request_documents`), `inspected` (first `inspect`) and `released` (last `release`). Intervals
are differences of milestones in seconds; a consignment counts in an interval when both ends
exist. Per group: count, mean, percentiles (linear interpolation between order statistics,
DuckDB `quantile_cont`), the share of arrived parcels decided before arrival and the share
released at arrival (release at the arrival instant, i.e. no stop at the border).
"""

from __future__ import annotations

from typing import Any, Final

from clearway.kernel.errors import DomainError
from clearway.statistics.measures import NONE_KEY
from clearway.statistics.snapshot import Snapshot

INTERVALS: Final[dict[str, tuple[str, str]]] = {
    "file_to_decide": ("filed", "decided"),
    "decide_to_arrive": ("decided", "arrived"),
    "arrive_to_release": ("arrived", "released"),
    "hold_to_release": ("held", "released"),
    "file_to_release": ("filed", "released"),
}
GROUPS: Final = ("lane", "office", "mode", "agency")
PERCENTILES: Final = (0.5, 0.9, 0.95)

MILESTONES_SQL: Final = """
SELECT e.consignment_id,
       min(e.at) FILTER (WHERE e.kind = 'file') AS filed,
       max(e.at) FILTER (WHERE e.kind = 'decide') AS decided,
       min(e.at) FILTER (WHERE e.kind = 'arrive') AS arrived,
       min(e.at) FILTER (WHERE e.kind IN ('hold', 'request_documents')) AS held,
       min(e.at) FILTER (WHERE e.kind = 'inspect') AS inspected,
       max(e.at) FILTER (WHERE e.kind = 'release') AS released,
       arg_min(e.office, e.at) FILTER (WHERE e.kind = 'arrive') AS arrival_office
FROM events e GROUP BY e.consignment_id
"""


class UnknownGroup(DomainError):
    problem_type = "unknown-group"


def _milestones(snap: Snapshot) -> str:
    """The per-consignment milestones, computed once per snapshot connection (a temp table)."""
    snap.con.execute(f"CREATE TEMP TABLE IF NOT EXISTS milestones AS {MILESTONES_SQL}")
    return "milestones"


def _grouped(snap: Snapshot, by: str) -> str:
    """One row per (consignment, group key) with its milestones."""
    if by == "agency":
        # A parcel counts for every authority that stopped it (customs, or an agency code).
        key_sql = "h.authority"
        join = (
            "JOIN (SELECT DISTINCT consignment_id, authority FROM holds) h USING (consignment_id)"
        )
    elif by == "office":
        key_sql = "coalesce(m.arrival_office, c.office)"
        join = ""
    else:
        key_sql = f"c.{by}"
        join = ""
    return f"""
        SELECT coalesce(CAST({key_sql} AS VARCHAR), '{NONE_KEY}') AS key, m.*
        FROM {_milestones(snap)} m JOIN consignments c USING (consignment_id) {join}"""


def time_release(snap: Snapshot, by: str) -> list[dict[str, Any]]:
    """Interval statistics per group (seconds)."""
    if by not in GROUPS:
        raise UnknownGroup(f"unknown group {by!r}; groups: {', '.join(GROUPS)}")
    parts = []
    for name, (a, b) in INTERVALS.items():
        parts.append(
            f"SELECT key, '{name}' AS interval, epoch({b}) - epoch({a}) AS seconds "
            f"FROM g WHERE {a} IS NOT NULL AND {b} IS NOT NULL"
        )
    rows = snap.rows(
        f"""WITH g AS ({_grouped(snap, by)}), d AS ({" UNION ALL ".join(parts)})
        SELECT key, interval, count(*) AS n, avg(seconds) AS mean,
               quantile_cont(seconds, {list(PERCENTILES)}) AS q, max(seconds) AS max
        FROM d GROUP BY key, interval"""
    )
    out = []
    for r in rows:
        row: dict[str, Any] = {
            "key": r["key"],
            "interval": r["interval"],
            "n": int(r["n"]),
            "mean": float(r["mean"]),
        }
        for p, q in zip(PERCENTILES, r["q"], strict=True):
            row[f"p{int(p * 100)}"] = float(q)
        row["max"] = float(r["max"])
        out.append(row)
    return sort_durations(out)


def sort_durations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = list(INTERVALS)
    return sorted(rows, key=lambda r: (r["key"], order.index(r["interval"])))


def shares(snap: Snapshot, by: str) -> list[dict[str, Any]]:
    """Per group: parcels, arrived, released, share decided before arrival, share released at
    arrival (of the arrived parcels)."""
    if by not in GROUPS:
        raise UnknownGroup(f"unknown group {by!r}; groups: {', '.join(GROUPS)}")
    rows = snap.rows(
        f"""WITH g AS ({_grouped(snap, by)})
        SELECT key, count(*) AS parcels,
               count(*) FILTER (WHERE arrived IS NOT NULL) AS arrived,
               count(*) FILTER (WHERE released IS NOT NULL) AS released,
               count(*) FILTER (WHERE decided < arrived) AS decided_before_arrival,
               count(*) FILTER (WHERE released <= arrived) AS released_at_arrival
        FROM g GROUP BY key"""
    )
    return sort_shares([finish_share(r) for r in rows])


def finish_share(r: dict[str, Any]) -> dict[str, Any]:
    arrived = int(r["arrived"])
    out: dict[str, Any] = {k: (str(v) if k == "key" else int(v)) for k, v in r.items()}
    for name in ("decided_before_arrival", "released_at_arrival"):
        out[f"share_{name}"] = out[name] / arrived if arrived else None
    return out


def sort_shares(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["key"])


def hold_durations(snap: Snapshot) -> list[dict[str, Any]]:
    """How long each authority's holds stayed open (lifted holds only), in seconds."""
    rows = snap.rows(
        f"""SELECT authority AS key, count(*) AS n,
               count(*) FILTER (WHERE lifted_at IS NULL) AS still_open,
               avg(epoch(lifted_at) - epoch(placed_at)) AS mean,
               quantile_cont(epoch(lifted_at) - epoch(placed_at), {list(PERCENTILES)}) AS q
        FROM holds GROUP BY authority ORDER BY authority"""
    )
    out = []
    for r in rows:
        row: dict[str, Any] = {
            "key": r["key"],
            "holds": int(r["n"]),
            "still_open": int(r["still_open"]),
            "mean": None if r["mean"] is None else float(r["mean"]),
        }
        for p, q in zip(PERCENTILES, r["q"] or [None] * len(PERCENTILES), strict=True):
            row[f"p{int(p * 100)}"] = None if q is None else float(q)
        out.append(row)
    return out
