"""The DMS answer: one builder for acceptance, rejection, control, release and amount due."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lxml import etree

from clearway.ingestion.dms.answer import KINDS, RESPONSE_NS, Due, render
from clearway.kernel.errors import Problem

NS = {"r": RESPONSE_NS}
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def read(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert etree.QName(root).namespace == RESPONSE_NS and etree.QName(root).localname == "Response"
    return root


@pytest.mark.parametrize(("status", "code"), [(s, k.function_code) for s, k in KINDS.items()])
def test_every_answer_carries_its_function_code_and_the_declaration(status: str, code: str) -> None:
    root = read(render(status=status, lrn="LRN-1", mrn="26DKABCDEF123456R3", at=AT))
    assert root.findtext("r:FunctionCode", namespaces=NS) == code
    assert root.find("r:TypeCode", NS) is None  # the response has a FunctionCode, no TypeCode
    assert root.findtext("r:IssueDateTime/r:DateTimeString", namespaces=NS) == "20261102093000Z"
    assert root.findtext("r:Declaration/r:FunctionalReferenceID", namespaces=NS) == "LRN-1"
    assert root.findtext("r:Declaration/r:ID", namespaces=NS) == "26DKABCDEF123456R3"


def test_rejection_lists_each_problem_with_an_xpath_pointer() -> None:
    problems = [
        Problem("/consignee/name", "required_by_data_set", "required"),
        Problem(
            "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine/"
            "ItemChargeAmount",
            "h7.schema",
            "line 61: '12,50' is not a valid value",
        ),
        Problem("/items/1/hs_code", "h7.excise_goods", "use H1"),
    ]
    root = read(render(status="rejected", lrn="LRN-1", problems=problems, at=AT))
    errors = root.findall("r:Error", NS)
    assert [e.findtext("r:ValidationCode", namespaces=NS) for e in errors] == [
        "required_by_data_set",
        "h7.schema",
        "h7.excise_goods",
    ]
    assert [e.findtext("r:Pointer/r:Location", namespaces=NS) for e in errors] == [
        "/Declaration/GoodsShipment/Importer/Name",
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine/"
        "ItemChargeAmount",
        "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID",
    ]
    assert errors[1].findtext("r:Description", namespaces=NS).startswith("line 61")
    assert root.find("r:Declaration/r:ID", NS) is None  # nothing accepted, no MRN


def test_amount_due_lists_duties_and_taxes_with_their_total() -> None:
    root = read(
        render(
            status="amount_due",
            lrn="LRN-1",
            mrn="26DKABCDEF123456R3",
            at=AT,
            accepted_at=AT,
            version=1,
            due=[Due("duty", Decimal("12.5")), Due("vat", Decimal("262.5"))],
            currency="DKK",
        )
    )
    fees = root.findall("r:Declaration/r:DutyTaxFee", NS)
    assert [f.findtext("r:TypeCode", namespaces=NS) for f in fees] == ["A00", "B00"]
    amounts = [f.find("r:Payment/r:PaymentAmount", NS) for f in fees]
    assert [(a.text, a.get("currencyID")) for a in amounts if a is not None] == [
        ("12.50", "DKK"),
        ("262.50", "DKK"),
    ]
    assert root.findtext("r:Declaration/r:TotalPaymentAmount", namespaces=NS) == "275.00"
    assert root.findtext("r:Declaration/r:VersionID", namespaces=NS) == "1"
    accepted = root.findtext("r:Declaration/r:AcceptanceDateTime/r:DateTimeString", namespaces=NS)
    assert accepted == "20261102093000Z"


def test_unknown_status_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        render(status="maybe", lrn="L1")
