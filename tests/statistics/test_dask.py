"""The Dask path on a local two-worker cluster gives the DuckDB results over the same files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

from clearway.kernel.clock import FixedClock
from clearway.statistics import measures, timerelease
from clearway.statistics.distributed import DaskStatistics
from clearway.statistics.snapshot import Period, Snapshot
from clearway.storage.export import export
from clearway.wiring.services import build
from clearway.wiring.settings import Settings
from tests.statistics.conftest import populate

FLOATS = ("mean", "p50", "p90", "p95", "max")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture
def snapshot(sqlite_url: str, clock: FixedClock, tmp_path: Path) -> Path:
    services = build(Settings(database_url=sqlite_url, sample_rate=0.2), clock=clock)
    populate(services, clock, parcels=150, seed=11)
    export(services.engine, tmp_path / "snap", chunk=60)  # three partitions per table
    services.close()
    return tmp_path / "snap"


def _approx(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: pytest.approx(v, rel=1e-12) if k in FLOATS else v for k, v in r.items()} for r in rows
    ]


def test_dask_equals_duckdb(snapshot: Path, client: Client) -> None:
    dask_stats = DaskStatistics(snapshot, client)
    try:
        with Snapshot(snapshot) as snap:
            assert len(snap.files("consignments")) > 2
            for dim in measures.DIMENSIONS:
                expected = measures.breakdown(snap, dim)
                assert expected, dim
                assert dask_stats.breakdown(dim) == expected, dim
            assert dask_stats.revenue() == measures.revenue(snap)
            counts = measures.hit_rate_counts(snap)
            assert {r["group"] for r in counts} >= {"baseline", "lane"}
            assert dask_stats.hit_rate_counts() == counts
            for by in timerelease.GROUPS:
                expected = timerelease.time_release(snap, by)
                assert expected, by
                assert dask_stats.time_release(by) == _approx(expected), by
                assert dask_stats.shares(by) == timerelease.shares(snap, by), by
    finally:
        dask_stats.close()


def test_dask_reads_only_the_period(snapshot: Path, client: Client) -> None:
    inside = DaskStatistics(snapshot, client, Period(date(2026, 11, 2), date(2026, 11, 2)))
    after = DaskStatistics(snapshot, client, Period(date(2026, 11, 3), None))
    try:
        with Snapshot(snapshot) as snap:
            stored = snap.scalar("SELECT count(*) FROM consignments")
        assert stored > 100
        assert sum(r["parcels"] for r in inside.breakdown("mode")) == stored
        assert after.breakdown("mode") == [] and after.revenue() == []
    finally:
        inside.close()
        after.close()
