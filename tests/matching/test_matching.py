"""Multi-source matching: China's three-document flow, cross-checks, missing legs, formats in."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import msgspec
import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import FilingDocument, Party, from_builtins
from clearway.matching.merge import Leg, merge
from clearway.matching.rules import rules_for
from clearway.simulation.formats import cn_legs, csv_file, h7_declaration
from clearway.wiring.services import Services
from tests.conftest import make_filing

CARRIER = Party(name="SF Express", identifier="SF01")


def cn_filing(**overrides: object) -> FilingDocument:
    doc = make_filing(
        filer_reference="CN-ORD-1",
        destination_country="CN",
        dispatch_country="KR",
        currency="CNY",
        mode="express",
        transport_document="SF1234567890",
        transport_cost="30.00",
        collection={"model": "vendor", "registration_number": "3101960001"},
        consignee={
            "name": "Wang Fang",
            "address": "Nanjing Road 8",
            "city": "Shanghai",
            "postcode": "200001",
            "country": "CN",
            "identifier": "310101199001011234",
        },
        order={"id": "O-CN-1", "total": "830.00"},
        payment={"id": "P-CN-1", "amount": "830.00", "currency": "CNY", "payer_name": "Wang Fang"},
        items=[
            {
                "description": "Facial moisturising cream 50 ml",
                "hs_code": "330499",
                "quantity": 2,
                "value": "800.00",
                "origin_country": "KR",
                "net_mass_kg": "0.2",
            }
        ],
    )
    doc.update(overrides)
    return from_builtins(doc)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def _key(services: Services, name: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.operators.create_key(name, role)}"}


def _post_xml(client: TestClient, body: bytes, headers: dict[str, str]) -> dict[str, object]:
    resp = client.post(
        "/v1/messages", content=body, headers={**headers, "Content-Type": "application/xml"}
    )
    assert resp.status_code == 200, resp.text
    out: dict[str, object] = resp.json()
    return out


def test_three_legs_from_three_parties_merge_into_one_consignment(
    client: TestClient, services: Services
) -> None:
    doc = cn_filing()
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    platform = _key(services, "Bazaar Direct", "platform")
    first = client.post(
        "/v1/filings",
        content=msgspec.json.encode(doc),
        headers={**platform, "Content-Type": "application/json"},
    ).json()
    reasons = {r["code"] for r in first["decision"]["reasons"]}
    assert "match_leg_missing" in reasons  # CN requires payment and waybill records
    pay = _post_xml(client, legs.payment, _key(services, "Alipay", "payment_provider"))
    [pay_result] = pay["results"]  # type: ignore[misc]
    assert pay_result["consignment_id"] == first["consignment_id"]
    assert "<" in pay_result["receipt"] and "120" in pay_result["receipt"]
    way = _post_xml(client, legs.waybill, _key(services, "SF Express", "carrier"))
    [way_result] = way["results"]  # type: ignore[misc]
    assert way_result["consignment_id"] == first["consignment_id"]
    c = services.store.load(first["consignment_id"])
    assert c is not None and sorted(c.legs) == ["declaration", "payment", "waybill"]
    assert c.decision is not None
    assert not [r for r in c.decision.reasons if r.source == "match"]
    [arrival] = services.clearance.arrive([doc.transport_document], "officer:x")
    assert not any("record match" in why for why in arrival.reasons)


def test_a_payment_that_disagrees_with_the_order_is_a_reason_and_a_check(
    client: TestClient, services: Services
) -> None:
    doc = cn_filing()
    wrong = msgspec.structs.replace(
        doc,
        payment=msgspec.structs.replace(doc.payment, amount=Decimal("500.00"), payer_name="Li Wei"),
    )
    legs = cn_legs(wrong, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    platform = _key(services, "Bazaar Direct", "platform")
    # the platform names its payment provider, so the provider's record joins even when it
    # disagrees (unnamed, a disagreeing record would be held for an officer instead)
    assert doc.payment is not None
    named = msgspec.structs.replace(
        doc, payment=msgspec.structs.replace(doc.payment, provider=Party(name="Alipay"))
    )
    first = client.post(
        "/v1/filings",
        content=msgspec.json.encode(named),
        headers={**platform, "Content-Type": "application/json"},
    ).json()
    _post_xml(client, legs.payment, _key(services, "Alipay", "payment_provider"))
    c = services.store.load(first["consignment_id"])
    assert c is not None and c.decision is not None
    codes = {r.code for r in c.decision.reasons if r.source == "match"}
    assert {"match_amount", "match_payer"} <= codes
    assert c.decision.lane in ("yellow", "red")


def test_a_parcel_still_missing_a_leg_is_held_on_arrival(services: Services) -> None:
    filer = Filer(
        services.operators.ensure("Bazaar Direct", "platform"), "Bazaar Direct", "platform"
    )
    [r] = services.pipeline.process(filer, [Submission(cn_filing())])
    [arrival] = services.clearance.arrive(["SF1234567890"], "officer:x")
    assert arrival.answer == "hold"
    assert any("record match incomplete" in why and "payment" in why for why in arrival.reasons)
    assert r.consignment_id == arrival.consignment_id


def test_merge_takes_goods_from_the_declaration_and_keys_from_the_legs() -> None:
    declaration = cn_filing(transport_document="")
    waybill = cn_filing(filer_reference="W", items=[], order=None, payment=None)
    rules = rules_for("CN", declaration.legal_date)  # type: ignore[arg-type]
    result = merge(
        [Leg("waybill", "carrier", waybill), Leg("declaration", "platform", declaration)], rules
    )
    assert result.document.transport_document == "SF1234567890"
    assert result.document.items == declaration.items
    assert result.missing == ["payment"]


def test_h7_declarations_are_answered_in_kind(client: TestClient, services: Services) -> None:
    doc = from_builtins(make_filing(filer_reference="LRN-H7-1"))
    body = h7_declaration(doc)
    out = _post_xml(client, body, _key(services, "Customs Broker GmbH", "broker"))
    [result] = out["results"]  # type: ignore[misc]
    assert out["format"] == "h7" and result["outcome"] == "accepted", result
    assert "DMS" in result["receipt"]
    c = services.store.load(result["consignment_id"])
    assert c is not None and c.document.items[0].hs_code == "392690"


def test_csv_from_excel_is_filed(client: TestClient, services: Services) -> None:
    docs = [
        from_builtins(make_filing()),
        from_builtins(make_filing(filer_reference="ORD-2", transport_document="LX123456799CN")),
    ]
    body = csv_file(docs, excel=True)
    resp = client.post(
        "/v1/messages",
        content=body,
        headers={**_key(services, "Small Shop", "platform"), "Content-Type": "text/csv"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["format"] == "csv" and resp.json()["accepted"] == 2


def test_unreadable_messages_are_problems_not_errors(
    client: TestClient, services: Services
) -> None:
    key = _key(services, "Someone", "platform")
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    resp = client.post(
        "/v1/messages", content=xxe, headers={**key, "Content-Type": "application/xml"}
    )
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    resp = client.post("/v1/messages", content=b"", headers={**key, "Content-Type": "text/csv"})
    assert resp.status_code == 422


def test_a_filer_can_withdraw_before_arrival(services: Services) -> None:
    filer = Filer(services.operators.ensure("Mercato", "platform"), "Mercato", "platform")
    [r] = services.pipeline.process(filer, [Submission(from_builtins(make_filing()))])
    [w] = services.pipeline.process(
        filer, [Submission(None, action="cancel", reference="ORD-1001")]
    )
    assert (w.outcome, w.status, w.consignment_id) == (
        "invalidated",
        "invalidated",
        r.consignment_id,
    )
    [again] = services.pipeline.process(
        filer, [Submission(None, action="cancel", reference="NOPE")]
    )
    assert again.outcome == "rejected"


def test_a_leg_still_missing_after_the_wait_is_flagged(services: Services, clock: object) -> None:
    from datetime import timedelta

    from clearway.matching.rules import destinations_requiring_legs

    filer = Filer(
        services.operators.ensure("Bazaar Direct", "platform"), "Bazaar Direct", "platform"
    )
    [r] = services.pipeline.process(filer, [Submission(cn_filing())])
    assert services.clearance.flag_overdue_legs([r.consignment_id]) == []  # still waiting
    clock.advance(timedelta(hours=25))  # type: ignore[attr-defined]
    now = services.clock.now()
    candidates = services.store.awaiting_legs(
        destinations_requiring_legs(now.date()), now - timedelta(hours=1)
    )
    assert candidates == [r.consignment_id]
    assert services.clearance.flag_overdue_legs(candidates) == [r.consignment_id]
    c = services.store.load(r.consignment_id)
    assert c is not None and c.decision is not None
    assert "match_leg_overdue" in {x.code for x in c.decision.reasons}
    assert c.decision.lane in ("yellow", "red")
    assert services.clearance.flag_overdue_legs(candidates) == []  # flagged once


def test_another_operator_cannot_take_over_a_declared_parcel(
    client: TestClient, services: Services
) -> None:
    owner = _key(services, "Mercato Global", "platform")
    first = client.post("/v1/filings", json=make_filing(), headers=owner).json()
    rival = _key(services, "Rival Shop", "platform")
    cheap = make_filing(filer_reference="R-1", data_set="full", collection={"model": "consumer"})
    cheap["items"] = [
        {
            "description": "Plastic phone case",
            "hs_code": "392690",
            "quantity": 1,
            "value": "0.50",
            "origin_country": "CN",
            "net_mass_kg": "0.05",
        }
    ]
    resp = client.post("/v1/filings", json=cheap, headers=rival)
    assert resp.status_code == 409
    assert resp.json()["problems"][0]["code"] == "already_declared"
    assert (
        client.get(f"/v1/consignments/{first['consignment_id']}", headers=rival).status_code == 404
    )
    c = services.store.load(first["consignment_id"])
    assert c is not None and c.document.items[0].value == Decimal("12.90")


def test_only_a_declarant_can_withdraw_a_parcel(services: Services) -> None:
    platform = Filer(
        services.operators.ensure("Bazaar Direct", "platform"), "Bazaar Direct", "platform"
    )
    doc = cn_filing()
    [r] = services.pipeline.process(platform, [Submission(doc)])
    payer = Filer(
        services.operators.ensure("Alipay", "payment_provider"), "Alipay", "payment_provider"
    )
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    from clearway.clearance.intake import read_content

    _, subs = read_content(legs.payment)
    [paid] = services.pipeline.process(payer, subs)
    assert paid.consignment_id == r.consignment_id
    [w] = services.pipeline.process(
        payer, [Submission(None, action="cancel", reference=paid.filer_reference)]
    )
    assert (w.outcome, w.problems[0].code) == ("conflict", "withdrawal_refused")
    c = services.store.load(r.consignment_id)
    assert c is not None and c.status == "decided"


def test_completing_and_withdrawing_in_one_batch_is_consistent(services: Services) -> None:
    carrier = Filer(services.operators.ensure("Swift Air", "carrier"), "Swift Air", "carrier")
    pre = make_filing(
        filer_reference="PRE-1",
        data_set="pre_loading",
        mode="express",
        transport_document="1234567890",
        items=[{"description": "Plastic phone case", "hs_code": "392690", "quantity": 2}],
    )
    [first] = services.pipeline.process(carrier, [Submission(from_builtins(pre))])
    full = make_filing(filer_reference="FULL-1", mode="express", transport_document="1234567890")
    results = services.pipeline.process(
        carrier,
        [
            Submission(from_builtins(full)),
            Submission(None, action="cancel", reference="PRE-1"),
        ],
    )
    assert [x.outcome for x in results] == ["attached", "invalidated"]
    c = services.store.load(first.consignment_id)
    assert c is not None and c.status == "invalidated"


def test_legs_filed_at_the_same_moment_are_all_kept(services: Services) -> None:
    import threading

    from clearway.clearance.intake import read_content

    platform = Filer(
        services.operators.ensure("Bazaar Direct", "platform"), "Bazaar Direct", "platform"
    )
    doc = cn_filing()
    [r] = services.pipeline.process(platform, [Submission(doc)])
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    parties = [
        (
            Filer(
                services.operators.ensure("Alipay", "payment_provider"),
                "Alipay",
                "payment_provider",
            ),
            legs.payment,
        ),
        (
            Filer(services.operators.ensure("SF Express", "carrier"), "SF Express", "carrier"),
            legs.waybill,
        ),
    ]
    start = threading.Barrier(len(parties))
    errors: list[BaseException] = []

    def file(filer: Filer, message: bytes) -> None:
        try:
            subs = read_content(message)[1]
            start.wait()
            services.pipeline.process(filer, subs)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=file, args=p) for p in parties]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    c = services.store.load(r.consignment_id)
    assert c is not None and sorted(c.legs) == ["declaration", "payment", "waybill"]
