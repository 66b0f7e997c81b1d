"""`/v1/agencies/...`: an agency's key sees only parcels routed to it and holds only for itself."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clearway.wiring.services import Services
from tests.web.conftest import HONEY, PEPPER, arrive, file_parcel


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_agency_places_and_lifts_its_hold_through_the_api(
    client: TestClient, services: Services
) -> None:
    mixed = file_parcel(services, 1, [PEPPER, HONEY])
    other = file_parcel(services, 2, [PEPPER])
    arrive(services, mixed)
    fsa = services.operators.create_key("food_safety", "agency")
    officer = services.operators.create_key("officer-1", "officer")

    listed = client.get("/v1/agencies/food_safety/consignments", headers=_auth(fsa)).json()
    assert [c["id"] for c in listed["consignments"]] == [mixed] and listed["total"] == 1
    assert listed["consignments"][0]["routed_because"] == "HS 04"

    url = f"/v1/agencies/food_safety/consignments/{mixed}/holds"
    r = client.post(url, json={"action": "hold", "reason": "sample for lab"}, headers=_auth(fsa))
    assert r.status_code == 200, r.text
    assert {h["authority"] for h in r.json()["open_holds"]} == {"customs", "food_safety"}

    release = {"action": "release"}
    blocked = client.post(f"/v1/consignments/{mixed}/actions", json=release, headers=_auth(officer))
    assert blocked.status_code == 422 and "food_safety" in blocked.json()["detail"]

    r = client.post(url, json={"action": "lift_hold", "reason": "lab clear"}, headers=_auth(fsa))
    assert r.status_code == 200 and {h["authority"] for h in r.json()["open_holds"]} == {"customs"}
    ok = client.post(f"/v1/consignments/{mixed}/actions", json=release, headers=_auth(officer))
    assert ok.status_code == 200 and ok.json()["status"] == "released"
    events = [e for e in services.store.events_of(mixed) if e.actor.startswith("agency:")]
    assert [(e.kind, e.actor, e.data["reason"]) for e in events] == [
        ("hold", "agency:food_safety", "sample for lab"),
        ("lift_hold", "agency:food_safety", "lab clear"),
    ]

    not_routed = f"/v1/agencies/food_safety/consignments/{other}/holds"
    r = client.post(not_routed, json={"action": "hold", "reason": "x"}, headers=_auth(fsa))
    assert r.status_code == 404
    r = client.get("/v1/agencies/medicines/consignments", headers=_auth(fsa))
    assert r.status_code == 403
    r = client.get("/v1/agencies/food_safety/consignments", headers=_auth(officer))
    assert r.status_code == 403
    r = client.post(url, json={"action": "hold", "reason": " "}, headers=_auth(fsa))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = client.post(url, json={"action": "release", "reason": "x"}, headers=_auth(fsa))
    assert r.status_code == 422
