"""GACC's three-document check on CEB legs as enterprises send them (pure: parse, merge)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from clearway.domain.filing import FilingDocument, Order, Party, Payment, from_builtins
from clearway.ingestion import ceb
from clearway.ingestion.xml_safety import parse_xml
from clearway.matching.merge import Leg, merge, ready
from clearway.matching.rules import rules_for

RULES = rules_for("CN", date(2026, 11, 2))
BUYER = Party(name="王芳", identifier="110101199001011234")


def _doc(**changes: object) -> FilingDocument:
    doc = from_builtins(
        {
            "filer_reference": "CW0001",
            "transport_document": "SF1234567890",
            "destination_country": "CN",
            "dispatch_country": "KR",
            "currency": "CNY",
            "mode": "express",
            "legal_date": "2026-11-02",
            "transport_cost": "10.00",
            "consignee": {"name": "王芳", "address": "上海市黄浦区南京东路8号", "country": "CN"},
            "buyer": {"name": "王芳", "identifier": "110101199001011234"},
            "platform": {"name": "Bazaar 跨境", "identifier": "3101960001"},
            "carrier": {"name": "顺丰速运", "identifier": "4403180001"},
            "items": [
                {
                    "description": "面膜",
                    "hs_code": "3304990000",
                    "quantity": 2,
                    "value": "100.00",
                    "origin_country": "KR",
                }
            ],
            # 100 goods + 10 freight + 9.10 tax − 5 discount = 114.10 paid
            "order": {
                "id": "O-1",
                "total": "114.10",
                "goods_value": "100.00",
                "tax": "9.10",
                "discount": "5.00",
            },
            "payment": {"id": "P-1", "amount": "114.10", "currency": "CNY", "payer_name": "王芳"},
        }
    )
    return msgspec.structs.replace(doc, **changes) if changes else doc


def _legs(doc: FilingDocument, *, waybill_consignee: Party | None = None) -> list[Leg]:
    agent = Party(name="报关行", identifier="3122480001")
    messages = {
        "order": ceb.render_order(doc),
        "payment": ceb.render_payment(doc, pay_code="PAY01", pay_name="支付宝"),
        "waybill": ceb.render_waybill(
            msgspec.structs.replace(doc, consignee=waybill_consignee or doc.consignee)
        ),
        "inventory": ceb.render_inventory(doc, agent=agent),
    }
    legs = []
    for kind, body in messages.items():
        [record] = ceb.parse(parse_xml(body))
        assert record.document is not None, record.problems
        assert not record.errors, record.problems
        legs.append(Leg(kind, record.role or "", record.document))
    return legs


def _codes(legs: list[Leg]) -> dict[str, str]:
    return {p.code: p.message for p in merge(legs, RULES).problems}


def test_correct_totals_with_tax_and_discount_are_not_flagged() -> None:
    result = merge(_legs(_doc()), RULES)
    assert result.problems == []
    assert result.complete and ready(result.legs, result.document, RULES)
    assert result.document.order is not None and result.document.order.total == Decimal("114.10")


def test_a_wrong_amount_paid_is_flagged_naming_both_documents() -> None:
    doc = _doc(payment=Payment(id="P-1", amount=Decimal("104.10"), payer_name="王芳"))
    found = _codes(_legs(doc))
    assert set(found) == {"match_amount"}
    assert "104.10" in found["match_amount"] and "payment record (CEB411)" in found["match_amount"]


def test_a_payer_who_is_not_the_orderer_is_flagged_by_name_and_id_number() -> None:
    payer = Party(name="李伟", identifier="310101198502023456")
    legs = _legs(_doc())
    payment = next(leg for leg in legs if leg.kind == "payment")
    other = msgspec.structs.replace(
        payment.document,
        buyer=payer,
        payment=msgspec.structs.replace(payment.document.payment, payer_name="李伟"),
    )
    legs = [leg if leg.kind != "payment" else Leg("payment", leg.role, other) for leg in legs]
    found = _codes(legs)
    assert {"match_payer", "match_payer_id"} == set(found)
    assert "李伟" in found["match_payer"] and "王芳" in found["match_payer"]
    assert "310101198502023456" in found["match_payer_id"]


def test_a_different_waybill_consignee_is_flagged() -> None:
    other = Party(name="张三", address="北京市海淀区中关村1号", country="CN")
    found = _codes(_legs(_doc(), waybill_consignee=other))
    assert set(found) == {"match_consignee"}
    assert "张三" in found["match_consignee"] and "order (CEB311)" in found["match_consignee"]


def test_an_order_alone_is_not_ready_without_the_inventory() -> None:
    legs = [leg for leg in _legs(_doc()) if leg.kind != "inventory"]
    result = merge(legs, RULES)
    assert result.missing == ["inventory"]
    assert not ready(result.legs, result.document, RULES)


def test_a_declaration_stands_for_order_and_inventory() -> None:
    declaration = Leg("declaration", "platform", _doc())
    payment, waybill = (leg for leg in _legs(_doc()) if leg.kind in ("payment", "waybill"))
    result = merge([declaration, payment, waybill], RULES)
    assert result.missing == [] and ready(result.legs, result.document, RULES)


def test_the_order_block_of_a_payment_leg_never_lists_goods() -> None:
    payment = next(leg for leg in _legs(_doc()) if leg.kind == "payment")
    result = merge([payment], RULES)
    assert result.document.items == [] and not ready(result.legs, result.document, RULES)
    assert set(result.missing) == {"order", "waybill", "inventory"}


def test_an_order_with_an_unknown_buyer_still_needs_the_payer_to_match_the_consignee() -> None:
    doc = _doc(buyer=None, order=Order(id="O-1", total=Decimal("110.00")))
    doc = msgspec.structs.replace(
        doc, payment=Payment(id="P-1", amount=Decimal("110.00"), payer_name="王芳")
    )
    result = merge([Leg("declaration", "platform", doc)], rules_for("DE", date(2026, 11, 2)))
    assert result.problems == []
