"""Edited profile versions reach the pipeline's decisions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.kernel.clock import FixedClock
from clearway.kernel.codes import make_s10
from clearway.risk.overrides import CachedOverrides
from clearway.storage.profile_overrides import StoredProfileOverrides
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.web.conftest import PEPPER, form, login

BLADE = "WPN-BLADE-STUN"  # shipped: weight 60, lane red; hits pepper spray
TODAY = date(2026, 11, 2)  # the `clock` fixture's day
TOMORROW = TODAY + timedelta(days=1)


def file(svc: Services, n: int, legal: date) -> FilingResult:
    """One pepper-spray parcel through the real pipeline, at a legal date."""
    filer = Filer(svc.operators.ensure("Deutsche Post", "post"), "Deutsche Post", "post")
    desc, hs = PEPPER
    item = {
        "description": desc,
        "hs_code": hs,
        "quantity": 1,
        "value": "20.00",
        "origin_country": "CN",
        "net_mass_kg": "0.3",
    }
    doc = make_filing(
        transport_document=make_s10("LX", 30_000_000 + n, "CN"),
        filer_reference=f"OVR-{n}",
        legal_date=legal.isoformat(),
        items=[item],
        order={"id": f"O-{n}", "total": "20.00"},
        payment={"id": f"P-{n}", "amount": "20.00", "currency": "EUR", "payer_name": "Anna Müller"},
    )
    [result] = svc.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert result.decision is not None, result
    return result


def blade(result: FilingResult) -> list[tuple[str, float | None, str | None]]:
    assert result.decision is not None
    return [(r.text, r.weight, r.outcome) for r in result.decision.reasons if r.code == BLADE]


def stored_lane(svc: Services, result: FilingResult) -> str | None:
    assert result.consignment_id is not None
    c = svc.store.load(result.consignment_id)
    assert c is not None and c.decision is not None
    return c.decision.lane


def test_deactivation_from_tomorrow_keeps_today_and_stops_hits_from_tomorrow(
    services: Services, clock: FixedClock
) -> None:
    assert isinstance(services.profile_overrides, CachedOverrides)
    web = WebStore(services.engine, clock)
    before = file(services, 1, TODAY)
    assert before.decision is not None and before.decision.lane == "red" and blade(before)
    web.propose_profile_version(
        BLADE,
        active=False,
        weight="60",
        lane="red",
        referral="request_for_screening",
        reason="Offensive weapons",
        effective_from=TOMORROW,
        effective_until=None,
        note="now covered by the national prohibitions list",
        edited_by="analyst:anna",
    )
    web.review_profile_version(BLADE, 1, decision="approved", by="analyst:ben", note="agreed")
    today = file(services, 2, TODAY)  # same day, cache or not: the shipped rule
    assert today.decision is not None and today.decision.lane == "red" and blade(today)
    clock.advance(timedelta(days=1))
    tomorrow = file(services, 3, TOMORROW)  # tomorrow was never read: no stale cache
    assert tomorrow.decision is not None
    assert blade(tomorrow) == [] and tomorrow.decision.lane != "red"
    assert stored_lane(services, tomorrow) == tomorrow.decision.lane
    # the adapter reads the same versions the pages show
    adapter = StoredProfileOverrides(services.engine)
    assert adapter.overrides(TODAY) == {}
    assert adapter.overrides(TOMORROW)[BLADE].active is False


def test_weight_and_outcome_change_changes_the_lane(services: Services, clock: FixedClock) -> None:
    web = WebStore(services.engine, clock)
    assert file(services, 1, TODAY).decision.lane == "red"  # type: ignore[union-attr]
    web.propose_profile_version(
        BLADE,
        active=True,
        weight="5",
        lane="yellow",
        referral=None,
        reason="Pepper spray: check the permit",
        effective_from=TODAY,
        effective_until=TOMORROW,
        note="documentary check is enough",
        edited_by="analyst:anna",
    )
    web.review_profile_version(BLADE, 1, decision="approved", by="analyst:ben", note="")
    assert services.profile_overrides is not None
    services.profile_overrides.invalidate()  # as the page does after saving
    edited = file(services, 2, TODAY)
    assert edited.decision is not None and edited.decision.lane == "yellow"
    assert blade(edited) == [("Pepper spray: check the permit", 5.0, "yellow")]
    assert stored_lane(services, edited) == "yellow"
    after = file(services, 3, TOMORROW)  # the version ended: the shipped rule again
    assert after.decision is not None and after.decision.lane == "red"
    assert [w for _, w, _ in blade(after)] == [60.0]


def test_an_edit_saved_on_the_page_applies_without_a_restart(
    client: TestClient, services: Services, web: WebStore
) -> None:
    assert file(services, 1, TOMORROW).decision.lane == "red"  # type: ignore[union-attr]
    login(client, web, "anna.analyst", "analyst")
    r = client.post(
        f"/analyst/profiles/{BLADE}",
        data=form(
            client,
            active="no",
            weight="60",
            lane="red",
            referral="request_for_screening",
            reason="Offensive weapons",
            effective_from=TOMORROW.isoformat(),
            note="covered by a national list now",
        ),
        follow_redirects=False,
    )
    assert r.status_code == 303
    # a proposal decides nothing until a second analyst approves it
    assert blade(file(services, 2, TOMORROW)) != []
    client.cookies.delete("cw_session")
    login(client, web, "ben.analyst", "analyst")
    ok = client.post(
        f"/analyst/profiles/{BLADE}/versions/1",
        data=form(client, decision="approve", review_note="the national list covers it"),
        follow_redirects=False,
    )
    assert ok.status_code == 303
    [v] = web.profile_versions(BLADE)
    assert (v.status, v.edited_by, v.reviewed_by) == (
        "approved",
        "analyst:anna.analyst",
        "analyst:ben.analyst",
    )
    # tomorrow's overrides were read (and cached) by the earlier filings; approval invalidated
    assert blade(file(services, 3, TOMORROW)) == []
    assert blade(file(services, 4, TODAY)) != []
    listing = client.get("/analyst/profiles")
    assert listing.status_code == 200
