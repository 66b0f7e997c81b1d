"""POST /v1/hs/suggest, quotes without an HS code, the estimator page and `clearway hs`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clearway.api.app import create_app
from clearway.cli.main import app as cli
from clearway.wiring.services import Services
from tests.conftest import make_filing

JACKET = "men's waterproof jacket, polyester"


@pytest.fixture
def client(sqlite_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_services)) as c:
        yield c


def test_suggest_returns_five_subheadings_with_scores_paths_and_us_lines(
    client: TestClient,
) -> None:
    r = client.post("/v1/hs/suggest", json={"description": JACKET, "destination": "US"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"].startswith("hs2022/")
    found = body["suggestions"]
    assert len(found) == 5
    scores = [s["score"] for s in found]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
    best = found[0]
    assert [p["level"] for p in best["path"]] == ["section", "chapter", "heading", "subheading"]
    assert best["path"][-1]["code"] == best["code"] and len(best["code"]) == 6
    assert any(s["code"][:2] in ("61", "62") for s in found[:2])  # apparel chapters
    lines = [n for s in found for n in s["national"]]
    assert lines and all(
        len(n["code"]) == 10 and n["code"][:6] in {s["code"] for s in found} for n in lines
    )


def test_suggest_refuses_bad_requests_with_every_problem(client: TestClient) -> None:
    r = client.post("/v1/hs/suggest", json={"description": " ", "destination": "ZZ", "limit": 50})
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    paths = {p["path"] for p in body["problems"]}
    assert paths == {"/description", "/destination", "/limit"}
    r = client.post("/v1/hs/suggest", json={"text": "tea"})
    assert r.status_code == 422 and r.json()["problems"]
    r = client.post("/v1/hs/suggest", content=b"tea", headers={"content-type": "text/plain"})
    assert r.status_code == 415


def _item(**extra: Any) -> dict[str, Any]:
    item = {"description": JACKET, "quantity": 1, "value": "80.00", "origin_country": "CN"}
    item.update(extra)
    return item


def test_quote_without_hs_code_uses_the_suggested_code_and_says_so(client: TestClient) -> None:
    doc = make_filing(destination_country="FR", items=[_item()])
    r = client.post("/v1/quotes", json=doc)
    assert r.status_code == 200, r.text
    quote = r.json()
    line = quote["lines"][0]
    suggested = line["suggested"]
    assert suggested["note"] == "based on suggested code"
    assert line["hs_code"] == suggested["code"] == suggested["alternatives"][0]["code"]
    assert len(suggested["alternatives"]) == 5
    assert suggested["path"][-1]["code"] == suggested["code"]
    assert "hs_code_suggested" in quote["flags"]
    # the shopper picks another of the five: the same quote as declaring that code
    other = suggested["alternatives"][1]["code"]
    again = client.post(
        "/v1/quotes", json=make_filing(destination_country="FR", items=[_item(hs_code=other)])
    )
    assert again.status_code == 200
    assert again.json()["lines"][0]["hs_code"] == other
    assert "suggested" not in again.json()["lines"][0]


def test_estimator_answers_a_description_without_a_code(client: TestClient) -> None:
    params = {
        "destination": "FR",
        "currency": "EUR",
        "collection": "consumer",
        "description_0": JACKET,
        "value_0": "80.00",
        "origin_0": "CN",
    }
    r = client.get("/estimate", params=params)
    assert r.status_code == 200, r.text
    assert 'id="you-pay"' in r.text and "based on suggested code" in r.text
    assert "Computed on a suggested HS code" in r.text
    assert 'name="suggest_0" value="1"' in r.text
    options = [line for line in r.text.split("<option") if 'value="' in line and "—" in line]
    assert len(options) >= 5
    picked = r.text.split('<select id="pick_0" name="hs_code_0">')[1].split("</select>")[0]
    codes = re.findall(r'value="(\d{6})"', picked)
    assert len(codes) == 5, codes
    # picking the third suggestion quotes on it and still offers the others
    r2 = client.get("/estimate", params={**params, "hs_code_0": codes[2], "suggest_0": "1"})
    assert r2.status_code == 200, r2.text[r2.text.find('role="alert"') :][:300]
    assert f"<code>{codes[2]}</code> — based on suggested code" in r2.text
    assert f'<option value="{codes[2]}" selected>' in r2.text


def test_cli_suggest_prints_json() -> None:
    result = CliRunner().invoke(cli, ["hs", "suggest", JACKET, "--destination", "us", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["destination"] == "US" and len(body["suggestions"]) == 5
    bad = CliRunner().invoke(cli, ["hs", "suggest", JACKET, "--destination", "XX"])
    assert bad.exit_code == 2
