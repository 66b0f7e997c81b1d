"""Time release on three parcels whose every event time is set by the test clock.

Filed 09:00 and decided at once; all arrive at 15:00 by post.
  A vendor-collected, nothing due: released at arrival             arrive→release 0 s
  B consumer-collected: held for payment, paid 16:30               arrive→release 5,400 s
  C consumer-collected: PHYTO holds 15:10–17:10, paid 17:40        arrive→release 9,600 s
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from clearway.clearance.handlers import ActionRequest
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.kernel.clock import FixedClock
from clearway.kernel.errors import DomainError
from clearway.statistics import timerelease
from clearway.statistics.snapshot import Snapshot
from clearway.storage.export import export
from clearway.wiring.services import Services
from tests.conftest import make_filing


def _pay(services: Services, cid: str) -> None:
    c = services.store.load(cid)
    assert c is not None and c.assessment is not None and c.payment_status == "due"
    a = c.assessment
    services.clearance.record_payment(cid, a.due_at_border, a.currency, "PAY", "payment_provider:P")


@pytest.fixture
def three(services: Services, clock: FixedClock, tmp_path: Path) -> Path:
    consumer = {"model": "consumer"}
    docs = [
        make_filing(filer_reference="A", transport_document="LX000000014CN"),
        make_filing(filer_reference="B", transport_document="LX000000028CN", collection=consumer),
        make_filing(filer_reference="C", transport_document="LX000000031CN", collection=consumer),
    ]
    filer = Filer(services.operators.ensure("Shop", "platform"), "Shop", "platform")
    results = services.pipeline.process(filer, [Submission(from_builtins(d)) for d in docs])
    ids = {r.filer_reference: r.consignment_id for r in results}
    assert all(ids.values()), [r.problems for r in results]
    clock.advance(timedelta(hours=6))  # 15:00
    answers = services.clearance.arrive(
        ["LX000000014CN", "LX000000028CN", "LX000000031CN"], "post:Post", "OFFICE-X"
    )
    assert [a.answer for a in answers] == ["release", "hold", "hold"]
    clock.advance(timedelta(minutes=10))  # 15:10
    phyto = ActionRequest("hold", "agency:PHYTO", "plant health", authority="PHYTO")
    services.clearance.act(str(ids["C"]), phyto)
    clock.advance(timedelta(minutes=80))  # 16:30
    _pay(services, str(ids["B"]))
    clock.advance(timedelta(minutes=40))  # 17:10
    lift = ActionRequest("lift_hold", "agency:PHYTO", "no pests", authority="PHYTO")
    services.clearance.act(str(ids["C"]), lift)
    clock.advance(timedelta(minutes=30))  # 17:40
    _pay(services, str(ids["C"]))
    export(services.engine, tmp_path / "snap")
    return tmp_path / "snap"


def _interval(rows: list[dict[str, object]], key: str, name: str) -> dict[str, object]:
    return next(r for r in rows if r["key"] == key and r["interval"] == name)


def test_intervals_percentiles_and_shares(three: Path) -> None:
    with Snapshot(three) as snap:
        by_office = timerelease.time_release(snap, "office")
        shares = timerelease.shares(snap, "office")
        by_agency = timerelease.shares(snap, "agency")
        holds = timerelease.hold_durations(snap)
    release = _interval(by_office, "OFFICE-X", "arrive_to_release")
    # 0, 5400, 9600: mean 5000; p90 at rank 1.8 → 5400 + 0.8 × 4200; p95 at 1.9 → + 0.9 × 4200
    assert release == {
        "key": "OFFICE-X",
        "interval": "arrive_to_release",
        "n": 3,
        "mean": 5000.0,
        "p50": 5400.0,
        "p90": 8760.0,
        "p95": 9180.0,
        "max": 9600.0,
    }
    assert _interval(by_office, "OFFICE-X", "decide_to_arrive")["p50"] == 6 * 3600.0
    assert _interval(by_office, "OFFICE-X", "file_to_decide")["max"] == 0.0
    # held at arrival (15:00) for B and C: 5,400 s and 9,600 s
    assert _interval(by_office, "OFFICE-X", "hold_to_release")["n"] == 2
    assert shares == [
        {
            "key": "OFFICE-X",
            "parcels": 3,
            "arrived": 3,
            "released": 3,
            "decided_before_arrival": 3,
            "released_at_arrival": 1,
            "share_decided_before_arrival": 1.0,
            "share_released_at_arrival": 1 / 3,
        }
    ]
    # customs held B and C at arrival; PHYTO held C only
    assert [(r["key"], r["parcels"]) for r in by_agency] == [("PHYTO", 1), ("customs", 2)]
    phyto = next(h for h in holds if h["key"] == "PHYTO")
    assert (phyto["holds"], phyto["still_open"], phyto["p50"]) == (1, 0, 7200.0)


def test_unknown_group_is_refused(three: Path) -> None:
    with Snapshot(three) as snap, pytest.raises(DomainError, match="unknown group"):
        timerelease.time_release(snap, "weekday")
