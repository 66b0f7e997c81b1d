"""The HTTP API end to end on real databases: auth, filings, consignments, arrivals, errors."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.wiring.services import Services
from tests.conftest import make_filing


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def _auth(services: Services, operator: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.operators.create_key(operator, role)}"}


def _is_problem(resp: object, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = resp.json()  # type: ignore[attr-defined]
    assert body["status"] == status and str(body["type"]).startswith("/problems/")
    return body


def test_filing_needs_a_valid_key(client: TestClient, services: Services) -> None:
    _is_problem(client.post("/v1/filings", json=make_filing()), 401)
    bad = {"Authorization": "Bearer cw_nope_nope"}
    _is_problem(client.post("/v1/filings", json=make_filing(), headers=bad), 401)
    officer = _auth(services, "Border Office", "officer")
    _is_problem(client.post("/v1/filings", json=make_filing(), headers=officer), 403)


def test_file_read_and_resubmit(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    first = client.post("/v1/filings", json=make_filing(), headers=platform)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["outcome"] == "accepted" and body["decision"]["lane"]
    again = client.post("/v1/filings", json=make_filing(), headers=platform)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert again.json()["consignment_id"] == body["consignment_id"]
    metrics = client.get("/metrics", headers=_auth(services, "Border Office", "officer")).text
    assert 'clearway_filings_total{outcome="accepted"} 1.0' in metrics
    assert 'clearway_filings_total{outcome="duplicate"} 1.0' in metrics
    got = client.get(f"/v1/consignments/{body['consignment_id']}", headers=platform).json()
    assert got["status"] == "decided" and got["assessment"]["trace"]
    assert [e["kind"] for e in got["events"]][:3] == ["file", "assess", "decide"]


def test_operators_see_only_their_own_consignments(client: TestClient, services: Services) -> None:
    mine = _auth(services, "Mercato Global", "platform")
    cid = client.post("/v1/filings", json=make_filing(), headers=mine).json()["consignment_id"]
    theirs = _auth(services, "Bazaar Direct", "platform")
    _is_problem(client.get(f"/v1/consignments/{cid}", headers=theirs), 404)
    officer = _auth(services, "Border Office", "officer")
    assert client.get(f"/v1/consignments/{cid}", headers=officer).status_code == 200
    arrival = client.post(
        "/v1/arrivals",
        json={"transport_documents": ["LX123456785CN"]},
        headers=_auth(services, "Other Post", "post"),
    )
    assert arrival.json()["results"][0]["answer"] == "unknown"


def test_invalid_filing_lists_every_problem(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    doc = make_filing(destination_country="XX", currency="EUX")
    body = _is_problem(client.post("/v1/filings", json=doc, headers=platform), 422)
    paths = {p["path"] for p in body["problems"]}  # type: ignore[union-attr]
    assert {"/destination_country", "/currency"} <= paths


@pytest.mark.parametrize(
    ("content", "ctype", "status"),
    [
        (b'{"filer_reference": ', "application/json", 422),
        (b"<xml/>", "application/xml", 415),
        (b"[1, 2]", "application/json", 422),
        (b'"just a string"', "application/json", 422),
    ],
)
def test_bad_bodies_get_problem_documents(
    client: TestClient, services: Services, content: bytes, ctype: str, status: int
) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    resp = client.post("/v1/filings", content=content, headers={**platform, "Content-Type": ctype})
    _is_problem(resp, status)


def test_huge_bodies_are_refused(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    big = b"[" + b" " * (services.settings.max_body_bytes + 10) + b"]"
    resp = client.post(
        "/v1/filings/batch", content=big, headers={**platform, "Content-Type": "application/json"}
    )
    _is_problem(resp, 413)


def test_batch_returns_a_result_per_filing(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    docs = [
        make_filing(),
        make_filing(filer_reference="ORD-2", transport_document="LX123456799CN"),
        {"filer_reference": "broken"},
    ]
    resp = client.post("/v1/filings/batch", json=docs, headers=platform)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert [r["outcome"] for r in body["results"]] == ["accepted", "accepted", "rejected"]
    too_many = [make_filing()] * (services.settings.max_batch + 1)
    _is_problem(client.post("/v1/filings/batch", json=too_many, headers=platform), 422)


def test_officer_inspects_and_releases_a_held_parcel(
    client: TestClient, services: Services
) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    officer = _auth(services, "Border Office", "officer")
    cid = client.post("/v1/filings", json=make_filing(), headers=platform).json()["consignment_id"]
    hold = client.post(
        f"/v1/consignments/{cid}/actions",
        json={"action": "hold", "reason": "suspected counterfeit"},
        headers=officer,
    )
    assert hold.status_code == 200, hold.text
    assert hold.json()["status"] == "held"
    _is_problem(
        client.post(
            f"/v1/consignments/{cid}/actions", json={"action": "release"}, headers=platform
        ),
        403,
    )
    inspected = client.post(
        f"/v1/consignments/{cid}/actions",
        json={"action": "record_inspection", "found": False, "notes": "genuine goods"},
        headers=officer,
    )
    assert inspected.json()["status"] == "inspected"
    arrived = client.post(
        "/v1/arrivals", json={"transport_documents": ["LX123456785CN"]}, headers=officer
    ).json()["results"][0]
    assert arrived["answer"] == "hold"
    released = client.post(
        f"/v1/consignments/{cid}/actions",
        json={"action": "release", "reason": "inspection clear"},
        headers=officer,
    ).json()
    assert released["status"] == "released"
    assert all(h["lifted_at"] for h in released["holds"])
    again = client.post(
        f"/v1/consignments/{cid}/actions", json={"action": "seize"}, headers=officer
    )
    _is_problem(again, 409)


def test_seizing_closes_every_open_hold(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    officer = _auth(services, "Border Office", "officer")
    cid = client.post("/v1/filings", json=make_filing(), headers=platform).json()["consignment_id"]
    client.post(
        f"/v1/consignments/{cid}/actions",
        json={"action": "hold", "reason": "suspected counterfeit"},
        headers=officer,
    )
    seized = client.post(
        f"/v1/consignments/{cid}/actions",
        json={"action": "seize", "reason": "counterfeit"},
        headers=officer,
    )
    assert seized.json()["status"] == "seized"
    assert [h["lift_reason"] for h in seized.json()["holds"]] == ["closed: seized"]


def test_notices_feed_pages_with_a_cursor(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    client.post("/v1/filings", json=make_filing(), headers=platform)
    client.post(
        "/v1/filings",
        json=make_filing(filer_reference="ORD-2", transport_document="LX123456799CN"),
        headers=platform,
    )
    page = client.get("/v1/notices?limit=1", headers=platform).json()
    assert len(page["notices"]) == 1
    rest = client.get(f"/v1/notices?after={page['next_cursor']}", headers=platform).json()
    assert len(rest["notices"]) == 1
    assert rest["notices"][0]["notice"]["filer_reference"] == "ORD-2"


def test_health_metrics_and_openapi(client: TestClient, services: Services) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    client.get("/healthz")
    officer = _auth(services, "Border Office", "officer")
    assert "clearway_http_requests" in client.get("/metrics", headers=officer).text
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    props = spec["components"]["schemas"]["FilingDocument"]["properties"]
    for name in (
        "filer_reference",
        "data_set",
        "transport_document",
        "master_document",
        "mode",
        "legal_date",
        "destination_country",
        "dispatch_country",
        "currency",
        "transport_cost",
        "insurance_cost",
        "category",
        "collection",
        "consignor",
        "consignee",
        "seller",
        "platform",
        "order",
        "payment",
        "items",
    ):
        assert name in props
    assert client.get("/problems/invalid-input").status_code == 200


def test_unknown_paths_and_methods_are_problems(client: TestClient) -> None:
    _is_problem(client.get("/v1/nothing-here"), 404)
    _is_problem(client.delete("/v1/filings"), 405)


def test_payment_endpoint_validates_amounts(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    cid = client.post("/v1/filings", json=make_filing(), headers=platform).json()["consignment_id"]
    payer = _auth(services, "PayFast", "payment_provider")
    resp = client.post(
        f"/v1/consignments/{cid}/payments",
        json={"amount": "1.00", "currency": "EUR", "reference": "X"},
        headers=payer,
    )
    _is_problem(resp, 404)  # the payment provider never filed about this parcel
    officer = _auth(services, "Border Office", "officer")
    resp = client.post(
        f"/v1/consignments/{cid}/payments", json={"amount": 1.5, "currency": "EUR"}, headers=officer
    )
    _is_problem(resp, 422)
    assert msgspec.json.decode(resp.content)["problems"]


def test_quotes_need_no_account_and_explain_each_amount(client: TestClient) -> None:
    doc = make_filing(collection={"model": "consumer"})
    resp = client.post("/v1/quotes", json=doc)
    assert resp.status_code == 200, resp.text
    q = resp.json()
    assert q["jurisdiction"] and q["currency"] == "EUR" and q["trace"]
    assert q["irg_category"] in (2, 3, 4)
    bad = client.post("/v1/quotes", json=make_filing(destination_country="XX"))
    _is_problem(bad, 422)


def test_posts_get_a_per_item_answer_in_their_notices(
    client: TestClient, services: Services
) -> None:
    post = _auth(services, "Deutsche Post", "post")
    client.post("/v1/filings", json=make_filing(), headers=post)
    client.post("/v1/arrivals", json={"transport_documents": ["LX123456785CN"]}, headers=post)
    notices = client.get("/v1/notices", headers=post).json()["notices"]
    answers = [n["notice"]["item_answer"] for n in notices if "item_answer" in n["notice"]]
    assert answers and answers[-1]["item_id"] == "LX123456785CN"
    assert answers[-1]["answer"] in ("release", "hold")


def test_numbers_in_requests_must_be_real_amounts(client: TestClient, services: Services) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    officer = _auth(services, "Border Office", "officer")
    cid = client.post("/v1/filings", json=make_filing(), headers=platform).json()["consignment_id"]
    for amount in ("sNaN", "NaN", "-Infinity", "1e40"):
        resp = client.post(
            f"/v1/consignments/{cid}/payments",
            json={"amount": amount, "currency": "EUR", "reference": "R"},
            headers=officer,
        )
        _is_problem(resp, 422)
    bad = client.post(
        f"/v1/consignments/{cid}/actions",
        json={
            "action": "record_inspection",
            "found": True,
            "corrected_value": "-5",
            "corrected_hs_code": "12345678901",
        },
        headers=officer,
    )
    body = _is_problem(bad, 422)
    assert {p["path"] for p in body["problems"]} == {  # type: ignore[union-attr]
        "/corrected_value",
        "/corrected_hs_code",
    }
    client.post(
        f"/v1/consignments/{cid}/actions",
        json={"action": "hold", "reason": "check"},
        headers=officer,
    )
    good = client.post(
        f"/v1/consignments/{cid}/actions",
        json={
            "action": "record_inspection",
            "found": True,
            "corrected_value": "120.00",
            "corrected_hs_code": "4202.21",
        },
        headers=officer,
    )
    assert good.status_code == 200, good.text


def test_texts_too_long_for_storage_are_refused_not_crashed(
    client: TestClient, services: Services
) -> None:
    platform = _auth(services, "Mercato Global", "platform")
    resp = client.post("/v1/filings", json=make_filing(office="HUB-" * 20), headers=platform)
    body = _is_problem(resp, 422)
    assert body["problems"][0]["path"] == "/office"  # type: ignore[index]


def test_a_quote_that_cannot_be_computed_says_why(client: TestClient) -> None:
    # ISO 4217 lists gold (XAU), but no exchange rate exists to value goods in it
    resp = client.post("/v1/quotes", json=make_filing(currency="XAU", order=None, payment=None))
    body = _is_problem(resp, 422)
    assert body["problems"][0]["code"] == "not_quotable"  # type: ignore[index]
