"""EU DMS declarations (H7, H1) filed over HTTP: the legally right outcome for each sample."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.wiring.services import Services

from .conftest import H7_SAMPLES, filled

H7 = H7_SAMPLES / "h7"
ITEM = "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem"


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


@pytest.fixture
def broker(services: Services) -> dict[str, str]:
    key = services.operators.create_key("Nordic Customs Brokers ApS", "broker")
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/xml"}


def post(client: TestClient, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    resp = client.post("/v1/messages", content=body, headers=headers)
    assert resp.status_code < 500, resp.text
    out: dict[str, Any] = resp.json()
    return resp.status_code, out


def sample(name: str, **replace: str) -> bytes:
    raw = filled(next(H7_SAMPLES.glob(f"*/{name}")))
    for old, new in replace.items():
        assert old.encode() in raw, old
        raw = raw.replace(old.encode(), new.encode())
    return raw


@pytest.mark.parametrize(
    "name",
    [
        "h7_standard_v2.1.xml",
        "h7_standard_v2.2.xml",
        "h7_prelodged_v2.1.xml",
        "h7_prelodged_v2.2.xml",
    ],
)
def test_h7_standard_and_prelodged_are_accepted_with_their_values(
    client: TestClient, broker: dict[str, str], services: Services, name: str
) -> None:
    status, out = post(client, broker, sample(name))
    assert status == 200, out
    [result] = out["results"]
    assert result["outcome"] == "accepted", result
    c = services.store.load(result["consignment_id"])
    assert c is not None
    doc = c.document
    assert (doc.destination_country, doc.currency, doc.data_set) == ("DK", "DKK", "reduced")
    assert doc.intrinsic_value == Decimal("1000") and doc.packages == 2
    assert doc.items[0].quantity == 1
    assert doc.declaration is not None
    assert doc.declaration.type_code == ("IMD" if "prelodged" in name else "IMA")
    assert doc.declaration.declarant == "DK12345678"
    assert c.assessment is not None and c.assessment.currency == "DKK"


@pytest.mark.parametrize(
    ("changes", "code", "path"),
    [
        (
            {'currencyID="DKK">1000<': 'currencyID="DKK">50000<'},
            "h7.value_over_limit",
            f"{ITEM}/Commodity/InvoiceLine/ItemChargeAmount",
        ),
        (
            {"<ns2:ID>482090<": "<ns2:ID>220421<", "Hej Hej Hej": "Red wine 75 cl"},
            "h7.excise_goods",
            f"{ITEM}[1]/Commodity/Classification/ID",
        ),
        (
            {"<ns2:ID>482090<": "<ns2:ID>930420<", "Hej Hej Hej": "Hunting knife"},
            "h7.restricted_goods",
            f"{ITEM}[1]/Commodity/Classification/ID",
        ),
        (
            {'currencyID="DKK">1000<': 'currencyID="DKK">12,50<'},
            "h7.schema",
            f"{ITEM}/Commodity/InvoiceLine/ItemChargeAmount",
        ),
        (
            {
                "<ns2:Description>Hej Hej Hej </ns2:Description>": "<ns2:Description>"
                + "x" * 3_000_000
                + "</ns2:Description>"
            },
            "h7.schema",
            f"{ITEM}/Commodity/Description",
        ),
    ],
    ids=["50000-dkk", "wine", "restricted", "decimal-comma", "3mb-description"],
)
def test_bad_h7_is_refused_with_an_xpath(
    client: TestClient,
    broker: dict[str, str],
    services: Services,
    changes: dict[str, str],
    code: str,
    path: str,
) -> None:
    status, out = post(client, broker, sample("h7_standard_v2.2.xml", **changes))
    assert status == 422, out
    assert out["type"] == "/problems/invalid-input" and out["accepted"] == 0
    found = {(p["code"], p["path"]) for p in out["problems"]}
    assert (code, path) in found, out["problems"]
    if code.startswith("h7.") and code != "h7.schema":
        assert any("H1" in p["message"] for p in out["problems"])
    [result] = out["results"]
    assert result["outcome"] == "rejected" and "DMSREJ" in result["receipt"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("urn:wco:datamodel:WCO:DEC-DMS:2", "urn:wco:datamodel:WCO:DEC-DMS:9"),
        ("<ns2:FunctionalReferenceID>CW-LRN-0001</ns2:FunctionalReferenceID>", ""),
    ],
    ids=["wrong-namespace", "missing-lrn"],
)
def test_unreadable_declarations_are_4xx(
    client: TestClient, broker: dict[str, str], old: str, new: str
) -> None:
    raw = filled(H7 / "h7_standard_v2.2.xml").replace(old.encode(), new.encode())
    resp = client.post("/v1/messages", content=raw, headers=broker)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["problems"] and all(p["path"].startswith("/") for p in body["problems"])
