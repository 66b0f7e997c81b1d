"""Single Window gates release: a parcel routed to an agency waits at arrival for the agency's
clearance; lifting the last hold puts the parcel where it would have been; arrival is always an
event, so time-release figures start from it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clearway.clearance.handlers import ActionRequest
from clearway.kernel.clock import FixedClock
from clearway.kernel.errors import DomainError
from clearway.statistics import timerelease
from clearway.statistics.snapshot import Snapshot
from clearway.storage.export import export
from clearway.wiring.services import Services
from tests.integrity.conftest import key
from tests.web.conftest import HONEY, SHIRT, arrive, file_parcel

FOOD = "food_safety"


def _holds(services: Services, cid: str) -> list[tuple[str, str]]:
    return [(h.authority, h.reason) for h in services.store.open_holds([cid]).get(cid, [])]


def _status(services: Services, cid: str) -> str:
    c = services.store.load(cid)
    assert c is not None
    return c.status


def test_routed_parcel_waits_for_the_agency_then_releases(
    services: Services, client: TestClient, clock: FixedClock, tmp_path: Path
) -> None:
    honey = file_parcel(services, 1, [HONEY])
    shirt = file_parcel(services, 2, [SHIRT])
    assert _status(services, honey) == "decided"
    clock.advance(timedelta(hours=2))

    # arrival: the shirt (routed nowhere, green) goes; the honey waits for food safety
    assert arrive(services, shirt) == "release"
    assert arrive(services, honey) == "hold"
    assert _status(services, honey) == "held"
    [(authority, reason)] = _holds(services, honey)
    assert authority == FOOD and reason.startswith("awaiting clearance by Food")

    # customs cannot release over the agency's head
    officer = key(services, "Border Office", "officer")
    r = client.post(
        f"/v1/consignments/{honey}/actions", headers=officer, json={"action": "release"}
    )
    assert r.status_code == 422 and FOOD in r.json()["detail"]

    # the agency clears it: nothing else holds it, so it is released (the state it would have had)
    clock.advance(timedelta(minutes=45))
    fsa = key(services, FOOD, "agency")
    r = client.post(
        f"/v1/agencies/{FOOD}/consignments/{honey}/holds",
        headers=fsa,
        json={"action": "clear", "reason": "labelling checked"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "released" and r.json()["open_holds"] == []
    kinds = [(e.kind, e.to_status) for e in services.store.events_of(honey)]
    assert ("arrive", "arrived") in kinds and kinds[-2:] == [
        ("clear", "held"),
        ("release", "released"),
    ]

    # the time-release figures include the arrival: 45 minutes from arrival to release
    export(services.engine, tmp_path / "snap")
    with Snapshot(tmp_path / "snap") as snap:
        rows = timerelease.time_release(snap, "office")
    interval = next(r for r in rows if r["interval"] == "arrive_to_release")
    assert interval["n"] == 2 and interval["max"] == 45 * 60.0


def test_agency_that_acted_before_arrival_is_not_waited_for(
    services: Services, clock: FixedClock
) -> None:
    honey = file_parcel(services, 3, [HONEY])
    clear = ActionRequest("clear", f"agency:{FOOD}", "documents seen", authority=FOOD)
    services.clearance.act(honey, clear)
    assert _status(services, honey) == "decided"
    assert arrive(services, honey) == "release"


def test_held_before_arrival_arrival_is_recorded_and_last_lift_goes_on(
    services: Services, clock: FixedClock, tmp_path: Path
) -> None:
    honey = file_parcel(services, 4, [HONEY])
    hold = ActionRequest("hold", f"agency:{FOOD}", "sample for the lab", authority=FOOD)
    services.clearance.act(honey, hold)
    assert _status(services, honey) == "held"

    # lifting the only hold before arrival: decided again, waiting for arrival
    lift = ActionRequest("lift_hold", f"agency:{FOOD}", "lab clear", authority=FOOD)
    services.clearance.act(honey, lift)
    assert _status(services, honey) == "decided"
    assert _holds(services, honey) == []

    # held again, then it arrives: the arrival is an event and the parcel stays held
    services.clearance.act(honey, hold)
    clock.advance(timedelta(hours=3))
    assert arrive(services, honey) == "hold"
    c = services.store.load(honey)
    assert c is not None and c.status == "held" and c.arrived_at == clock.now()
    arrivals = [e for e in services.store.events_of(honey) if e.kind == "arrive"]
    assert len(arrivals) == 1 and arrivals[0].from_status == "held"
    # presented again: no second arrival
    assert arrive(services, honey) == "hold"
    assert len([e for e in services.store.events_of(honey) if e.kind == "arrive"]) == 1

    # the agency lifts its hold after arrival: released, measured from the arrival
    clock.advance(timedelta(minutes=20))
    services.clearance.act(honey, lift)
    assert _status(services, honey) == "released"
    export(services.engine, tmp_path / "snap")
    with Snapshot(tmp_path / "snap") as snap:
        rows = timerelease.time_release(snap, "office")
    interval = next(r for r in rows if r["interval"] == "arrive_to_release")
    assert interval["n"] == 1 and interval["max"] == 20 * 60.0


def test_customs_cannot_give_agency_clearance(services: Services) -> None:
    honey = file_parcel(services, 5, [HONEY])
    officer_clear = ActionRequest("clear", "officer:O", "fine", authority="customs")
    with pytest.raises(DomainError, match="agency"):
        services.clearance.act(honey, officer_clear)


def test_agency_time_out_policy_lifts_an_unanswered_arrival_hold(
    services: Services, clock: FixedClock
) -> None:
    # product safety (timeout_hours: 48 in agency_routing.yaml) is routed toys and cosmetics
    toy = file_parcel(services, 6, [("Plush toy for children, teddy bear", "950300")])
    assert arrive(services, toy) == "hold"
    [(authority, _)] = _holds(services, toy)
    assert authority == "product_safety"
    clock.advance(timedelta(hours=47))
    assert services.clearance.lapse_agency_waits() == []
    assert _status(services, toy) == "held"
    clock.advance(timedelta(hours=2))
    assert services.clearance.lapse_agency_waits() == [toy]
    assert _status(services, toy) == "released"
    lifted = [e for e in services.store.events_of(toy) if e.kind == "lift_hold"]
    assert "within 48 h" in lifted[-1].data["reason"]
