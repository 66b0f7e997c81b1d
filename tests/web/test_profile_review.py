"""Editing a risk profile: the form starts from today's version, a preview shows the diff and
how many recent parcels would change lane, a backdated version needs a confirmation, and a
saved version is a proposal until a second analyst approves it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.risk.profiles import default_profiles
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.web.conftest import PEPPER, SHIRT, file_parcel, form, login

BLADE = "WPN-BLADE-STUN"  # shipped: weight 60, lane red


@pytest.fixture
def analyst(sqlite_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_services)) as c:
        login(c, WebStore(sqlite_services.engine, sqlite_services.clock), "anna", "analyst")
        yield c


def _fields(**changes: str) -> dict[str, str]:
    base = {
        "active": "yes",
        "weight": "60",
        "lane": "red",
        "referral": "request_for_screening",
        "reason": next(p.reason for p in default_profiles().profiles if p.id == BLADE),
        "effective_from": "2026-11-03",
        "note": "review",
    }
    return {**base, **changes}


def test_preview_shows_the_diff_and_the_lane_changes(
    analyst: TestClient, sqlite_services: Services
) -> None:
    for n in range(1, 4):
        file_parcel(sqlite_services, n, [PEPPER])
    file_parcel(sqlite_services, 9, [SHIRT])
    page = analyst.get(f"/analyst/profiles/{BLADE}").text
    assert re.search(r'id="weight"[^>]*value="60"', page)  # starts from the version in force
    r = analyst.post(
        f"/analyst/profiles/{BLADE}",
        data=form(analyst, step="preview", **_fields(weight="5", lane="")),
    )
    assert r.status_code == 200
    diff = re.search(r'<table id="diff">.*?</table>', r.text, re.S)
    assert diff and "weight" in diff.group(0) and "lane" in diff.group(0)
    impact = re.search(r'id="impact">(.*?)</p>', r.text, re.S)
    assert impact and "<strong>3</strong>" in impact.group(1)  # hit, and all three move
    # out of red; where they land depends on the other profiles they hit (the HS check)
    moved = re.search(r"\(red → (\w+): 3\)", impact.group(1))
    assert moved and moved.group(1) != "red"
    assert WebStore(sqlite_services.engine).profile_versions(BLADE) == []  # nothing saved yet


def test_identical_or_unconfirmed_backdated_versions_are_not_saved(
    analyst: TestClient, sqlite_services: Services
) -> None:
    same = analyst.post(f"/analyst/profiles/{BLADE}", data=form(analyst, **_fields()))
    assert same.status_code == 422 and "nothing changes" in same.text
    back = analyst.post(
        f"/analyst/profiles/{BLADE}",
        data=form(analyst, **_fields(weight="30", effective_from="2026-10-01")),
    )
    assert back.status_code == 422 and 'id="backdating"' in back.text
    ok = analyst.post(
        f"/analyst/profiles/{BLADE}",
        data=form(
            analyst, confirm_backdate="yes", **_fields(weight="30", effective_from="2026-10-01")
        ),
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"].endswith("done=proposed")
    page = analyst.get(f"/analyst/profiles/{BLADE}").text
    assert 'id="own-proposal"' in page and 'value="approve"' not in page
    assert re.search(r'id="weight"[^>]*value="60"', page)  # not in force: still the shipped rule


def _second(svc: Services, name: str = "ben") -> TestClient:
    c = TestClient(create_app(svc))
    login(c, WebStore(svc.engine, svc.clock), name, "analyst")
    return c


def test_a_second_analyst_approves_and_both_names_are_recorded(
    analyst: TestClient, sqlite_services: Services
) -> None:
    analyst.post(
        f"/analyst/profiles/{BLADE}",
        data=form(analyst, **_fields(weight="30", effective_from="2026-11-02")),  # today
        follow_redirects=False,
    )
    own = analyst.post(
        f"/analyst/profiles/{BLADE}/versions/1", data=form(analyst, decision="approve")
    )
    assert own.status_code == 422 and "you proposed this version" in own.text
    more = analyst.post(f"/analyst/profiles/{BLADE}", data=form(analyst, **_fields(weight="20")))
    assert more.status_code == 422 and "waiting for review" in more.text
    with _second(sqlite_services) as ben:
        page = ben.get(f"/analyst/profiles/{BLADE}").text
        pending = re.search(r'<section class="card" id="pending".*?</section>', page, re.S)
        assert pending and "analyst:anna" in pending.group(0)
        assert re.search(r"<del>60</del></td><td><ins>30</ins>", pending.group(0))
        r = ben.post(
            f"/analyst/profiles/{BLADE}/versions/1",
            data=form(ben, decision="approve", review_note="agreed"),
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"].endswith("done=approved")
    [v] = WebStore(sqlite_services.engine).profile_versions(BLADE)
    assert (v.status, v.edited_by, v.reviewed_by) == ("approved", "analyst:anna", "analyst:ben")
    page = analyst.get(f"/analyst/profiles/{BLADE}").text
    assert re.search(r'id="weight"[^>]*value="30"', page)  # the next edit starts from v1
    assert "analyst:ben" in re.search(r'<table id="versions">.*?</table>', page, re.S).group(0)  # type: ignore[union-attr]


def test_a_rejection_needs_a_reason_and_changes_nothing(
    analyst: TestClient, sqlite_services: Services
) -> None:
    analyst.post(f"/analyst/profiles/{BLADE}", data=form(analyst, **_fields(weight="30")))
    with _second(sqlite_services) as ben:
        ben.cookies.set("lang", "fr")
        bare = ben.post(f"/analyst/profiles/{BLADE}/versions/1", data=form(ben, decision="reject"))
        assert bare.status_code == 422 and "Remplissez ce champ." in bare.text
        ok = ben.post(
            f"/analyst/profiles/{BLADE}/versions/1",
            data=form(ben, decision="reject", review_note="no incidents to justify it"),
            follow_redirects=False,
        )
        assert ok.status_code == 303
    [v] = WebStore(sqlite_services.engine).profile_versions(BLADE)
    assert (v.status, v.reviewed_by, v.review_note) == (
        "rejected",
        "analyst:ben",
        "no incidents to justify it",
    )
    assert WebStore(sqlite_services.engine).effective_versions(v.effective_from) == {}
