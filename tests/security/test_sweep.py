"""Every operation of the OpenAPI document, role by role, two operators of each role, against
another operator's parcel, account, declaration, return, refund and held record.

Each call must be refused (or, for the calls that act on the caller's own data only, answer
about the caller's own data), must not leak the victim's data, and must change nothing; an
operation the sweep has no expectation for fails the test, so a new endpoint cannot slip in
unreviewed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clearway.api.app import create_app
from clearway.domain.filing import Party
from clearway.kernel.clock import FixedClock
from clearway.simulation.formats import cn_legs
from clearway.storage import tables as t
from clearway.storage.tables_security import payment_claims, unmatched_legs
from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.matching.test_matching import cn_filing
from tests.security.conftest import key

ATTACKER_ROLES = ("platform", "carrier", "post", "broker", "payment_provider", "agency", "analyst")
SECRETS = ("Ottilie Quarz", "Lindenweg 77", "ottilie@example.org", "Wang Fang", "Nanjing Road")
NUMBER = "IM2760000009"
PERIOD = "2026-11"

# Operations that answer about the caller's own data (or nobody's): 2xx is fine, leaks are not.
OWN_OR_PUBLIC = {
    ("GET", "/v1/notices"),
    ("GET", "/v1/registrations"),
    ("GET", "/v1/accounts"),
    ("POST", "/v1/quotes"),
    ("POST", "/v1/hs/suggest"),
    ("GET", "/healthz"),
}
# Aggregates an analyst reads (docs/security.md)
ANALYST_READS = {
    ("GET", "/v1/registrations/{number}"),
    ("GET", "/v1/accounts/{account_id}"),
    ("GET", "/v1/reports/{report}"),
}
# Operations whose 200 carries a result per item: each must be refused, held or unknown.
PER_ITEM = {
    ("POST", "/v1/filings/batch"),
    ("POST", "/v1/messages"),
    ("POST", "/v1/arrivals"),
}
REFUSED = {401, 403, 404, 405, 409, 422}


@pytest.fixture
def world(sqlite_services: Services, clock: FixedClock) -> Iterator[dict[str, Any]]:
    """A victim platform with a released parcel, a CN parcel, an account with a declared month,
    a return and its refund, and a record held as unmatched on its parcel."""
    svc = sqlite_services
    app = create_app(svc)
    for buckets in app.state.rate_limits:
        buckets.rate = 0  # the sweep is hundreds of calls from one address: no rate limit here
    with TestClient(app) as client:
        officer = key(svc, "Border Office", "officer")
        victim = key(svc, "Victim Shop", "platform")
        acc = client.post(
            "/v1/accounts",
            headers=officer,
            json={"operator": "Victim Shop", "currency": "EUR", "guarantee": "1000"},
        ).json()
        client.post(
            "/v1/registrations",
            headers=officer,
            json={
                "operator": "Victim Shop",
                "number": NUMBER,
                "scheme": "ioss",
                "jurisdiction": "EU",
                "valid_from": "2026-01-01",
                "account_id": acc["id"],
            },
        )
        eu = make_filing(
            filer_reference="V-1",
            collection={"model": "vendor", "registration_number": NUMBER},
            consignee={
                "name": "Ottilie Quarz",
                "address": "Lindenweg 77",
                "city": "Berlin",
                "postcode": "10115",
                "country": "DE",
                "email": "ottilie@example.org",
            },
            payment={"id": "P-V-1", "amount": "27.40", "currency": "EUR"},
        )
        p1 = client.post("/v1/filings", headers=victim, json=eu).json()
        doc = cn_filing(collection={"model": "consumer"})
        p2 = client.post(
            "/v1/filings",
            headers={**victim, "Content-Type": "application/json"},
            content=msgspec.json.encode(doc),
        ).json()
        client.post(
            "/v1/arrivals",
            headers=officer,
            json={"transport_documents": [eu["transport_document"]]},
        )
        declared = client.post(
            f"/v1/accounts/{acc['id']}/periods", headers=victim, json={"period": PERIOD}
        ).json()
        ret = client.post(
            "/v1/returns",
            headers=victim,
            json={
                "inbound": p1["consignment_id"],
                "return_document": "RR000000005CN",
                "items": [{"item": 0, "quantity": 1}],
            },
        ).json()
        refund = client.post("/v1/refunds", headers=victim, json={"return_id": ret["id"]}).json()
        assert doc.payment is not None
        guess = msgspec.structs.replace(
            doc,
            payment=msgspec.structs.replace(doc.payment, payer_name="Eve", id="P-EVE"),
            consignee=Party(name="Eve"),
        )
        legs = cn_legs(guess, pay_code="PAY99", pay_name="Rogue Pay")
        client.post(
            "/v1/messages",
            content=legs.payment,
            headers={
                **key(svc, "Rogue Pay", "payment_provider"),
                "Content-Type": "application/xml",
            },
        )
        held = client.get("/v1/unmatched-legs", headers=officer).json()["legs"]
        assert len(held) == 1 and "id" in refund and "id" in declared
        clock.advance(timedelta(minutes=5))
        yield {
            "client": client,
            "svc": svc,
            "officer": officer,
            "eu": eu,
            "cn": doc,
            "cn_legs": legs,
            "params": {
                "consignment_id": p2["consignment_id"],
                "account_id": acc["id"],
                "period": PERIOD,
                "number": NUMBER,
                "return_id": ret["id"],
                "refund_id": refund["id"],
                "leg_id": held[0]["id"],
                "agency": "food_safety",
                "person": "310101199001011234",
                "report": "liabilities",
                "filer_reference": doc.filer_reference,  # the victim's own, to withdraw
            },
            "released": p1["consignment_id"],
        }


def _body(method: str, path: str, w: dict[str, Any]) -> tuple[dict[str, str], bytes | None]:
    """A plausible body for each operation, aimed at the victim's data."""
    eu, cn = w["eu"], w["cn"]
    json_bodies: dict[tuple[str, str], Any] = {
        ("POST", "/v1/filings"): {**eu, "filer_reference": "TAKEOVER"},
        ("POST", "/v1/filings/batch"): [{**eu, "filer_reference": "TAKEOVER-B"}],
        ("POST", "/v1/consignments/{consignment_id}/actions"): {
            "action": "release",
            "reason": "x",
        },
        ("POST", "/v1/consignments/{consignment_id}/payments"): {
            "amount": "1.00",
            "currency": "CNY",
            "reference": "NOT-REALLY-PAID",
        },
        ("POST", "/v1/arrivals"): {"transport_documents": [cn.transport_document]},
        ("POST", "/v1/quotes"): make_filing(),
        ("POST", "/v1/registrations"): {
            "operator": "Victim Shop",
            "number": "IM2760000010",
            "scheme": "ioss",
            "jurisdiction": "EU",
            "valid_from": "2026-01-01",
        },
        ("POST", "/v1/registrations/{number}/status"): {"status": "suspended", "reason": "x"},
        ("POST", "/v1/accounts"): {"operator": "Victim Shop", "currency": "GBP", "guarantee": "1"},
        ("POST", "/v1/accounts/{account_id}/guarantee"): {"amount": "0"},
        ("POST", "/v1/accounts/{account_id}/periods"): {"period": PERIOD},
        ("POST", "/v1/accounts/{account_id}/periods/{period}/report"): {
            "format": "csv",
            "content": "transport_document,kind,amount\n",
        },
        ("POST", "/v1/accounts/{account_id}/periods/{period}/payment"): {
            "amount": "0.01",
            "currency": "EUR",
            "reference": "FAKE",
        },
        ("POST", "/v1/returns"): {
            "inbound": w["released"],
            "return_document": "RR000000019CN",
            "items": [{"item": 1, "quantity": 1}],
        },
        ("POST", "/v1/refunds"): {"return_id": w["params"]["return_id"]},
        ("POST", "/v1/agencies/{agency}/consignments/{consignment_id}/holds"): {
            "action": "hold",
            "reason": "x",
        },
        ("POST", "/v1/payments/confirmations"): {
            "lines": [{"reference": "FAKE", "amount": "0.01", "currency": "EUR"}]
        },
        ("POST", "/v1/unmatched-legs/{leg_id}/close"): {"note": "x"},
    }
    if (method, path) == ("POST", "/v1/messages"):
        return {"Content-Type": "application/xml"}, w["cn_legs"].waybill
    if (method, path) in json_bodies:
        return {"Content-Type": "application/json"}, msgspec.json.encode(
            json_bodies[(method, path)]
        )
    return {}, None


def _fingerprint(svc: Services, w: dict[str, Any]) -> tuple[object, ...]:
    parcels = svc.store.load_many([w["params"]["consignment_id"], w["released"]])
    with svc.engine.connect() as conn:
        counts = tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.filings, t.holds, t.events, t.notices, payment_claims)
        )
    accounts = svc.accounts
    assert accounts is not None
    d = accounts.accounts.declaration(w["params"]["account_id"], PERIOD)
    reg = accounts.accounts.registration(NUMBER)
    return (
        tuple(
            (c.id, c.version, c.status, c.payment_status, tuple(c.legs), c.document)
            for c in parcels.values()
        ),
        counts,
        (d.status, d.total, len(d.lines)),
        (reg.status, reg.aeo),
        accounts.accounts.account(w["params"]["account_id"]).guarantee,
    )


def _path(template: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)


def test_every_operation_refuses_every_other_operator(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    svc: Services = world["svc"]
    spec = client.get("/openapi.json").json()
    operations = [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 30
    attackers = [
        (role, key(svc, f"{role.replace('_', ' ').title()} {n}", role))
        for role in ATTACKER_ROLES
        for n in ("One", "Two")
    ]
    before = _fingerprint(svc, world)
    unexpected: list[str] = []
    for method, path in operations:
        url = _path(path, world["params"])
        if path == "/v1/quotas/{person}" or path == "/v1/reports/{report}":
            url += f"?period={PERIOD}"
        extra, body = _body(method, path, world)
        for role, headers in attackers:
            resp = client.request(method, url, headers={**headers, **extra}, content=body)
            where = f"{role} {method} {path} -> {resp.status_code}"
            leaked = [s for s in SECRETS if s in resp.text]
            if leaked:
                unexpected.append(f"{where} leaks {leaked}")
            if resp.status_code >= 500:
                unexpected.append(f"{where}: server error")
            elif (method, path) in OWN_OR_PUBLIC:
                continue
            elif role == "analyst" and (method, path) in ANALYST_READS:
                if resp.status_code != 200:
                    unexpected.append(f"{where}: analysts read this aggregate")
            elif (method, path) in PER_ITEM and resp.status_code == 200:
                items = resp.json().get("results", [])
                bad = [
                    r
                    for r in items
                    if r.get("outcome", r.get("answer"))
                    not in ("rejected", "conflict", "unmatched", "unknown")
                ]
                if bad:
                    unexpected.append(f"{where}: {bad}")
            elif (method, path) == ("GET", "/metrics"):
                if resp.status_code != 401:
                    unexpected.append(where)
            elif resp.status_code not in REFUSED:
                unexpected.append(f"{where}: {resp.text[:200]}")
    assert unexpected == []
    assert _fingerprint(svc, world) == before, "an operator's call changed another's data"
    # the attackers' guessed records are held for customs, each under its own sender
    with svc.engine.connect() as conn:
        held = conn.execute(select(unmatched_legs.c.operator_id, unmatched_legs.c.kind)).all()
    assert len(held) == 5 and {kind for _, kind in held} == {"payment", "waybill"}

    # staff: every operation answers without a server error (and officers may act)
    for headers in (world["officer"], key(svc, "Root", "admin")):
        for method, path in operations:
            extra, body = _body(method, path, world)
            resp = client.request(
                method,
                _path(path, world["params"]),
                headers={**headers, **extra},
                content=body,
            )
            assert resp.status_code < 500, f"{method} {path}: {resp.text[:300]}"
