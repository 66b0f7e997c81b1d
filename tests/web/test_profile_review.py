"""Editing a risk profile: the form starts from today's version, a preview shows the diff and
how many recent parcels would change lane, and a backdated version needs a confirmation."""

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
    assert ok.status_code == 303
    page = analyst.get(f"/analyst/profiles/{BLADE}").text
    assert re.search(r'id="weight"[^>]*value="30"', page)  # the next edit starts from v1
