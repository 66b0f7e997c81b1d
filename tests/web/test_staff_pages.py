"""Officer, agency and analyst pages over the real app and database (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.web.conftest import (
    HONEY,
    PEPPER,
    SHIRT,
    arrive,
    file_parcel,
    form,
    login,
    status_on_page,
)


def test_staff_pages_need_a_login_and_the_right_role(client: TestClient, web: WebStore) -> None:
    for path in ("/officer/", "/agency/", "/analyst/", "/analyst/profiles"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    login(client, web, "anna.analyst", "analyst")
    assert client.get("/officer/").status_code == 403
    assert client.get("/analyst/profiles").status_code == 200


def test_login_with_an_api_key_and_logout(
    client: TestClient, services: Services, web: WebStore
) -> None:
    key = services.operators.create_key("officer-7", "officer")
    r = client.post("/login", data=form(client, api_key=key), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/officer/"
    assert client.get("/officer/").status_code == 200
    client.post("/logout", data=form(client))
    assert client.get("/officer/", follow_redirects=False).status_code == 303
    bad = client.post("/login", data=form(client, api_key="cw_nope_nope"))
    assert bad.status_code == 401
    platform = services.operators.create_key("Mercato", "platform")
    assert client.post("/login", data=form(client, api_key=platform)).status_code == 401


def test_forms_without_the_csrf_token_are_refused(client: TestClient, web: WebStore) -> None:
    web.create_user("ana", "correct horse battery", "officer")
    r = client.post("/login", data={"username": "ana", "password": "correct horse battery"})
    assert r.status_code == 403 and "security token" in r.text
    r = client.post(
        "/login",
        data={"csrf": "guessed", "username": "ana", "password": "correct horse battery"},
    )
    assert r.status_code == 403


def test_officer_finds_inspects_and_releases_a_held_parcel(
    client: TestClient, services: Services, web: WebStore
) -> None:
    held = file_parcel(services, 1, [PEPPER])
    assert arrive(services, held) == "hold"
    login(client, web, "ana.officer", "officer")
    queue = client.get("/officer/", params={"lane": "red"})
    assert queue.status_code == 200 and f"/officer/consignments/{held}" in queue.text
    page = client.get(f"/officer/consignments/{held}")
    assert "WPN-BLADE-STUN" in page.text and "Offensive weapons" in page.text
    assert status_on_page(page.text) == "held"

    bad = client.post(
        f"/officer/consignments/{held}/actions",
        data=form(client, action="record_inspection", found="yes", corrected_hs_code="12"),
    )
    assert bad.status_code == 422 and "/corrected_hs_code" in bad.text

    r = client.post(
        f"/officer/consignments/{held}/actions",
        data=form(
            client,
            action="record_inspection",
            found="yes",
            corrected_value="35.00",
            corrected_hs_code="9304.00",
            notes="two canisters, not one",
        ),
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/officer/consignments/{held}/actions",
        data=form(client, action="release", reason="licence shown"),
    )
    assert r.status_code == 200 and status_on_page(r.text) == "released"
    events = services.store.events_of(held)
    inspect = next(e for e in events if e.kind == "inspect")
    assert inspect.actor == "officer:ana.officer"
    assert inspect.data["corrected_hs_code"] == "930400" and inspect.data["found"] is True
    release = events[-1]
    assert (release.kind, release.from_status, release.to_status) == (
        "release",
        "inspected",
        "released",
    )
    again = client.post(f"/officer/consignments/{held}/actions", data=form(client, action="seize"))
    assert again.status_code == 422  # a seizure needs a reason
    again = client.post(
        f"/officer/consignments/{held}/actions", data=form(client, action="seize", reason="x")
    )
    assert again.status_code == 409 and "cannot seize" in again.text


def test_agency_hold_blocks_release_until_lifted(
    client: TestClient, services: Services, web: WebStore
) -> None:
    mixed = file_parcel(services, 1, [PEPPER, HONEY])
    elsewhere = file_parcel(services, 2, [PEPPER])
    arrive(services, mixed)
    login(client, web, "fsa.inspector", "agency", "food_safety")
    queue = client.get("/agency/")
    assert f"/agency/consignments/{mixed}" in queue.text and elsewhere not in queue.text
    assert client.get(f"/agency/consignments/{elsewhere}").status_code == 404
    assert (
        client.post(
            f"/agency/consignments/{mixed}/holds", data=form(client, action="hold", reason="")
        ).status_code
        == 422
    )
    r = client.post(
        f"/agency/consignments/{mixed}/holds",
        data=form(client, action="hold", reason="veterinary certificate missing"),
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "veterinary certificate missing" in client.get("/agency/", params={"held": "true"}).text

    officer = TestClient(client.app)
    login(officer, web, "ana.officer", "officer")
    refused = officer.post(
        f"/officer/consignments/{mixed}/actions", data=form(officer, action="release")
    )
    assert refused.status_code == 422 and "holds still open by food_safety" in refused.text

    client.post(
        f"/agency/consignments/{mixed}/holds",
        data=form(client, action="lift_hold", reason="certificate received"),
    )
    done = officer.post(
        f"/officer/consignments/{mixed}/actions", data=form(officer, action="release")
    )
    assert status_on_page(done.text) == "released"
    lifted = [h for h in services.store.holds(mixed) if h.authority == "food_safety"]
    assert lifted[0].lifted_by == "agency:fsa.inspector"
    assert lifted[0].lift_reason == "certificate received"


def test_analyst_sees_counts_and_versions_a_profile(
    client: TestClient, services: Services, web: WebStore
) -> None:
    file_parcel(services, 1, [PEPPER])
    file_parcel(services, 2, [SHIRT])
    login(client, web, "anna.analyst", "analyst")
    dash = client.get("/analyst/")
    assert "Live counts from the operational database" in dash.text and ">decided<" in dash.text
    listing = client.get("/analyst/profiles")
    assert "WPN-BLADE-STUN" in listing.text
    bad = client.post(
        "/analyst/profiles/WPN-BLADE-STUN",
        data=form(
            client, active="yes", weight="9", effective_from="tomorrow", reason="r", note="n"
        ),
    )
    assert bad.status_code == 422 and "/effective_from" in bad.text
    r = client.post(
        "/analyst/profiles/WPN-BLADE-STUN",
        data=form(
            client,
            active="no",
            weight="0",
            lane="",
            referral="",
            reason="Stun guns",
            effective_from="2026-12-01",
            note="covered by a national list now",
        ),
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/analyst/profiles/WPN-BLADE-STUN")
    assert "covered by a national list now" in page.text and "analyst:anna.analyst" in page.text
    assert client.get("/analyst/profiles/NO-SUCH").status_code == 404


def test_queue_filters_tolerate_empty_fields_and_refuse_bad_ones(
    client: TestClient, web: WebStore
) -> None:
    login(client, web, "ana.officer", "officer")
    empty = {"lane": "", "office": "", "reason": "", "authority": "", "min_age_hours": ""}
    assert client.get("/officer/", params=empty).status_code == 200
    assert client.get("/officer/", params={"min_age_hours": "old"}).status_code == 422
    assert client.get("/officer/", params={"page": "0"}).status_code == 422


def test_revoking_a_key_ends_the_web_sessions_it_opened(
    client: TestClient, services: Services, web: WebStore
) -> None:
    key = services.operators.create_key("officer-8", "officer")
    client.post("/login", data=form(client, api_key=key), follow_redirects=False)
    assert client.get("/officer/").status_code == 200
    services.operators.revoke(key.split("_")[1])
    assert client.get("/officer/", follow_redirects=False).status_code == 303


def test_agency_clears_a_parcel_waiting_for_it_at_arrival(
    client: TestClient, services: Services, web: WebStore
) -> None:
    honey = file_parcel(services, 3, [HONEY])
    assert arrive(services, honey) == "hold"  # routed to food safety: waits for its clearance
    login(client, web, "fsa.clearer", "agency", "food_safety")
    page = client.get(f"/agency/consignments/{honey}").text
    assert 'value="clear"' in page and "Clear for release" in page
    r = client.post(
        f"/agency/consignments/{honey}/holds",
        data=form(client, action="clear", reason=""),  # a clearance needs no note
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=clear")
    stored = services.store.load(honey)
    assert stored is not None and stored.status == "released"  # nothing else held it
    assert not services.store.open_holds([honey]).get(honey)
    after = client.get(f"/agency/consignments/{honey}").text
    assert 'value="clear"' not in after  # a released parcel offers no clearance
