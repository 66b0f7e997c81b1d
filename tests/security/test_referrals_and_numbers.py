"""Pre-loading referrals stick until resolved; registration numbers count for their holders."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.security.conftest import key

TD = "1234567890"  # an express house waybill


def _pre_loading() -> dict[str, Any]:
    return make_filing(
        filer_reference="PRE-FLARES",
        data_set="pre_loading",
        mode="express",
        transport_document=TD,
        items=[{"description": "signal flares", "hs_code": "360490", "quantity": 2}],
    )


def test_do_not_load_stays_until_an_officer_decides(client: TestClient, services: Services) -> None:
    carrier = key(services, "Swift Air Express", "carrier")
    pre = client.post("/v1/filings", headers=carrier, json=_pre_loading()).json()
    assert pre["decision"]["referral"] == "do_not_load"
    cid = pre["consignment_id"]
    hit = {r["code"] for r in pre["decision"]["reasons"] if r["source"] == "rule"}

    # another party files a harmless description for the same parcel
    platform = key(services, "Mercato Global", "platform")
    harmless = make_filing(filer_reference="FULL-1", mode="express", transport_document=TD)
    full = client.post("/v1/filings", headers=platform, json=harmless).json()
    assert full["consignment_id"] == cid and full["outcome"] == "attached"
    d = full["decision"]
    assert d["referral"] == "do_not_load" and d["lane"] == "red"
    codes = {r["code"] for r in d["reasons"]}
    assert hit <= codes and "referral_open" in codes  # the profile's hit is kept (hit counts)

    officer = key(services, "Border Office", "officer")
    [arrival] = client.post(
        "/v1/arrivals", headers=officer, json={"transport_documents": [TD]}
    ).json()["results"]
    assert arrival["answer"] == "hold"

    wrong = client.post(
        f"/v1/consignments/{cid}/actions",
        headers=officer,
        json={"action": "resolve_referral", "resolution": "information_supplied", "reason": "x"},
    )
    assert wrong.status_code == 422 and "officer decision" in wrong.json()["detail"]
    done = client.post(
        f"/v1/consignments/{cid}/actions",
        headers=officer,
        json={
            "action": "resolve_referral",
            "resolution": "officer_decision",
            "reason": "flares are a licensed marine distress kit; screened at origin",
        },
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["decision"]["referral"] == "assessment_complete"
    resolved = [e for e in body["events"] if e["kind"] == "resolve_referral"]
    assert resolved and resolved[0]["actor"] == "officer:Border Office"
    assert resolved[0]["data"]["resolution"] == "officer_decision"
    # the platform cannot resolve it
    refused = client.post(
        f"/v1/consignments/{cid}/actions",
        headers=platform,
        json={"action": "resolve_referral", "resolution": "officer_decision"},
    )
    assert refused.status_code == 403


def _register(client: TestClient, officer: dict[str, str], operator: str, number: str) -> None:
    resp = client.post(
        "/v1/registrations",
        headers=officer,
        json={
            "operator": operator,
            "number": number,
            "scheme": "ioss",
            "jurisdiction": "EU",
            "valid_from": "2026-01-01",
            "aeo": True,
        },
    )
    assert resp.status_code == 201, resp.text


def test_a_number_counts_only_for_its_holder(client: TestClient, services: Services) -> None:
    officer = key(services, "Border Office", "officer")
    holder = key(services, "Mercato Global", "platform")
    rival = key(services, "Rival Shop", "platform")
    broker = key(services, "Customs Broker GmbH", "broker")
    _register(client, officer, "Mercato Global", "IM2760000001")

    def file(headers: dict[str, str], ref: str, serial: int, **extra: Any) -> Any:
        doc = make_filing(
            filer_reference=ref,
            transport_document=_s10(serial),
            collection={"model": "vendor", "registration_number": "IM2760000001"},
            **extra,
        )
        resp = client.post("/v1/filings", headers=headers, json=doc)
        assert resp.status_code == 201, resp.text
        return resp.json()

    own = file(holder, "OWN-1", 1)
    got = client.get(f"/v1/consignments/{own['consignment_id']}", headers=holder).json()
    assert got["assessment"]["payable_by"] == "vendor"

    quoted = file(rival, "RIVAL-1", 2)
    theirs = client.get(f"/v1/consignments/{quoted['consignment_id']}", headers=rival).json()
    assert theirs["assessment"]["payable_by"] == "consumer"
    assert "registration_number_not_held" in theirs["assessment"]["flags"]
    assert all(r["code"] != "AEO" for r in theirs["decision"].get("reasons", []))

    # a broker files for the platform, which the filing names: the number is the platform's
    named = file(broker, "BRK-1", 3, platform={"name": "Mercato Global", "country": "CN"})
    brk = client.get(f"/v1/consignments/{named['consignment_id']}", headers=broker).json()
    assert brk["assessment"]["payable_by"] == "vendor"


def test_an_unverified_number_is_never_trusted(client: TestClient, services: Services) -> None:
    # the registry is empty: numbers are not refused, but they are only "unverified"
    platform = key(services, "Mercato Global", "platform")
    doc = make_filing(collection={"model": "vendor", "registration_number": "IM2769999999"})
    cid = client.post("/v1/filings", headers=platform, json=doc).json()["consignment_id"]
    got = client.get(f"/v1/consignments/{cid}", headers=platform).json()
    trace = {e["name"]: e["value"] for e in got["assessment"]["trace"]}
    assert trace.get("registration.status") == "unverified"
    assert all(r["code"] != "AEO" for r in got["decision"].get("reasons", []))


def _s10(serial: int) -> str:
    from clearway.kernel.codes import make_s10

    return make_s10("LX", 30_000_000 + serial, "CN")


def test_a_refund_above_the_set_amount_waits_for_an_officer(sqlite_url: str, clock: object) -> None:
    from tests.security.conftest import app_with

    c, svc = app_with(sqlite_url, clock, refund_officer_above="EUR:1.00")  # type: ignore[arg-type]
    with c:
        officer = key(svc, "Border Office", "officer")
        shop = key(svc, "Mercato Global", "platform")
        acc = c.post(
            "/v1/accounts",
            headers=officer,
            json={"operator": "Mercato Global", "currency": "EUR", "guarantee": "1000"},
        ).json()
        _register(c, officer, "Mercato Global", "IM2760000001")
        doc = make_filing(collection={"model": "vendor", "registration_number": "IM2760000001"})
        cid = c.post("/v1/filings", headers=shop, json=doc).json()["consignment_id"]
        c.post(
            "/v1/arrivals",
            headers=officer,
            json={"transport_documents": [doc["transport_document"]]},
        )
        ret = c.post(
            "/v1/returns",
            headers=shop,
            json={
                "inbound": cid,
                "return_document": "RR000000005CN",
                "items": [{"item": 0, "quantity": 2}],
            },
        ).json()
        refund = c.post("/v1/refunds", headers=shop, json={"return_id": ret["id"]}).json()
        assert refund["status"] == "pending_approval", refund
        assert refund["payee"].startswith("account ") and acc["id"] in refund["payee"]
        decide = f"/v1/refunds/{refund['id']}/decision"
        assert (
            c.post(decide, headers=shop, json={"approve": True, "reason": "x"}).status_code == 403
        )
        ok = c.post(
            decide, headers=officer, json={"approve": True, "reason": "goods back, checked"}
        )
        assert ok.status_code == 200 and ok.json()["status"] == "approved"
        again = c.post(decide, headers=officer, json={"approve": False, "reason": "x"})
        assert again.status_code == 409
    svc.close()
