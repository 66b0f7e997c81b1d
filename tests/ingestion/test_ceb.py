from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lxml import etree

from clearway.domain.lifecycle import STATUSES
from clearway.ingestion import ceb
from clearway.ingestion.detect import parse
from clearway.ingestion.xml_safety import parse_xml, schema, schema_problems

from .conftest import CEB_SAMPLES

FILINGS = {
    "CEB311Message.xml": ("order", "platform", 6),
    "CEB411Message.xml": ("payment", "payment_provider", 10),
    "CEB511Message.xml": ("waybill", "carrier", 6),
    "CEB621Message.xml": ("inventory", "broker", 10),
    "CEB623Message.xml": ("invalidation", "broker", 10),
}
REQUESTS = {  # business messages about a known parcel: read in full, no canonical filing
    "CEB513Message.xml": ("logistics_status", "carrier", 10),
    "CEB625Message.xml": ("return_request", "broker", 10),
    "CEB711Message.xml": ("warehouse_entry", "carrier", 1),
}
RECEIPTS = [
    "CEB312Message.xml",
    "CEB412Message.xml",
    "CEB512Message.xml",
    "CEB514Message.xml",
    "CEB622Message.xml",
    "CEB624Message.xml",
    "CEB626Message.xml",
    "CEB712Message.xml",
]


def test_every_sample_is_covered() -> None:
    names = {p.name for p in CEB_SAMPLES.glob("*.xml")}
    assert names == set(FILINGS) | set(REQUESTS) | set(RECEIPTS)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_requests_are_read_with_their_keys(name: str) -> None:
    message = ceb.read(parse_xml((CEB_SAMPLES / name).read_bytes()))
    kind, role, count = REQUESTS[name]
    assert not message.problems and len(message.blocks) == count
    for block in message.blocks:
        assert (block.record.kind, block.record.role) == (kind, role)
        assert block.record.ok and block.record.document is None
        assert block.guid and len(block.guid) == 36
    first = message.blocks[0]
    if kind == "return_request":
        assert first.head["invtNo"] == "15003213300400111"
        assert first.lines == [
            {"gnum": "1", "gcode": "2412342134", "gname": "可乐", "qty": "12", "unit": "007"}
        ]
    if kind == "warehouse_entry":
        assert [line["logisticsNo"] for line in first.lines] == ["L201603081138001"]
        assert first.head["operatorCode"] == "1101110326"


@pytest.mark.parametrize("name", sorted(FILINGS))
def test_filings_are_ingested_with_their_role(name: str) -> None:
    batch = parse((CEB_SAMPLES / name).read_bytes())
    kind, role, count = FILINGS[name]
    assert batch.format == "ceb"
    assert len(batch.records) == count
    for record in batch.records:
        assert (record.kind, record.role) == (kind, role)
        assert record.ok, record.problems
        assert record.references["order_id"].startswith("order")


@pytest.mark.parametrize("name", RECEIPTS)
def test_receipts_are_refused_as_filings(name: str) -> None:
    [record] = parse((CEB_SAMPLES / name).read_bytes()).records
    assert not record.ok
    assert "receipt customs sends" in record.problems[0].message


def test_order_mapping() -> None:
    record = parse((CEB_SAMPLES / "CEB311Message.xml").read_bytes()).records[0]
    doc = record.document
    assert doc is not None
    assert doc.filer_reference == doc.order.id == "order20160321116421002"  # type: ignore[union-attr]
    assert doc.transport_document == ""
    assert (doc.destination_country, doc.currency) == ("CN", "CNY")  # GACC 142
    assert doc.order is not None and doc.order.total == Decimal("19050")
    # acturalPaid 19050 = goodsValue 14000 + freight 5000 + taxTotal 50 − discount 0
    assert (doc.order.goods_value, doc.order.tax, doc.order.discount) == (
        Decimal("14000"),
        Decimal("50"),
        Decimal("0"),
    )
    # appTime is Beijing time: 2016-03-08 11:27:01 +08:00 is 03:27:01 UTC
    assert doc.order.placed_at == datetime(2016, 3, 8, 3, 27, 1, tzinfo=UTC)
    assert doc.transport_cost == Decimal("5000")
    assert doc.payment is not None and doc.payment.id == "20160001634226001"
    assert doc.payment.payer_name is None  # the payer is the payment record's to say
    assert doc.buyer is not None and (doc.buyer.name, doc.buyer.identifier) == (
        "aa",
        "130681136250023332",
    )
    assert doc.platform is not None and doc.platform.identifier == "1105910159"
    assert doc.consignee is not None and doc.consignee.name == "焦洪宇"
    assert [i.origin_country for i in doc.items] == ["JP", "JP"]  # GACC 116
    assert [i.value for i in doc.items] == [Decimal("2000"), Decimal("12000")]
    # the official sample's second line says 200 × 10 = 12000: kept, flagged
    assert [p.code for p in record.problems] == ["ceb.line_total"]
    assert record.problems[0].severity == "warning"


def test_payment_waybill_inventory_mapping() -> None:
    payment = parse((CEB_SAMPLES / "CEB411Message.xml").read_bytes()).records[0].document
    assert payment is not None and payment.payment is not None
    assert payment.payment.amount == Decimal("19050") and payment.payment.currency == "CNY"
    assert payment.payment.payer_name == "支付人"
    assert payment.buyer is not None and payment.buyer.identifier == "130625021345225322"
    assert payment.items == []
    record = parse((CEB_SAMPLES / "CEB511Message.xml").read_bytes()).records[0]
    waybill = record.document
    assert waybill is not None
    assert waybill.items == []  # goodsInfo "包裹" is a note, never a goods line
    assert record.references["goods_info"] == "包裹"
    assert waybill.transport_document == "L201603081138007"
    assert waybill.master_document == "TY201603081344007"
    assert (waybill.gross_mass_kg, waybill.packages) == (Decimal("4000"), 6000)
    assert waybill.insurance_cost == Decimal("200")
    inventory = parse((CEB_SAMPLES / "CEB621Message.xml").read_bytes()).records[0].document
    assert inventory is not None
    assert inventory.procedure_code == "9610"
    assert inventory.office == "3700"
    assert inventory.items[0].hs_code == "8541401000"
    assert inventory.legal_date is not None and inventory.legal_date.isoformat() == "2016-03-08"
    assert inventory.buyer is not None and inventory.buyer.identifier == "130681136250023332"
    assert inventory.consignee is not None and inventory.consignee.name == "李小宝"
    # kept for the later status receipts, tax bill and answers to a cancellation or return
    assert inventory.declaration is not None
    assert inventory.declaration.message_id == "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
    assert (inventory.declaration.declarant, inventory.declaration.lrn) == (
        "1105910159",
        "NBBH20160308005",
    )


def test_gacc_codes() -> None:
    assert ceb.country_from_gacc("142") == "CN"
    assert ceb.country_from_gacc("502") == "US"
    assert ceb.country_from_gacc("304") == "DE"
    assert ceb.currency_from_gacc("142") == "CNY"
    assert ceb.currency_from_gacc("300") == "EUR"
    assert ceb.currency_from_gacc("156") is None  # ISO numeric is not a GACC code
    assert ceb.gacc_currency("USD") == "502"


def test_unknown_gacc_code_is_a_record_problem() -> None:
    raw = (
        (CEB_SAMPLES / "CEB411Message.xml")
        .read_bytes()
        .replace(b"<ceb:currency>142</ceb:currency>", b"<ceb:currency>999</ceb:currency>", 1)
    )
    records = ceb.parse(parse_xml(raw), validate=False)  # the GACC schema would refuse it first
    assert records[0].problems[0].code == "ceb.currency"
    assert records[0].document is None
    assert records[1].ok


def test_schema_violation() -> None:
    raw = (
        (CEB_SAMPLES / "CEB411Message.xml")
        .read_bytes()
        .replace(
            b"<ceb:amountPaid>19050</ceb:amountPaid>", b"<ceb:amountPaid>lots</ceb:amountPaid>", 1
        )
    )
    [record] = parse(raw).records
    assert record.problems[0].code == "ceb.schema"
    assert ceb.read(parse_xml(raw)).schema_failed


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("filed", "120"),
        ("referred", "300"),
        ("assessed", "120"),
        ("decided", "399"),
        ("invalidated", "899"),
        ("arrived", "399"),
        ("held", "599"),
        ("inspected", "500"),
        ("released", "800"),
        ("seized", "502"),
        ("returned_to_sender", "700"),
        ("abandoned", "899"),
        ("rejected", "100"),
    ],
)
def test_status_mapping(status: str, code: str) -> None:
    assert ceb.ceb_status(status) == code


def test_a_decision_for_an_officer_is_manual_review() -> None:
    assert ceb.ceb_status("decided", lane="green") == "399"
    assert ceb.ceb_status("decided", lane="yellow") == "300"
    assert ceb.ceb_status("decided", lane="red") == "300"


def test_every_lifecycle_status_has_a_code() -> None:
    assert {ceb.ceb_status(s) for s in STATUSES} <= set(ceb.CEB_STATUS_TEXT)
    assert [
        ceb.ceb_status("held", detention=d) for d in ("clearance", "anti_smuggling", "legal")
    ] == ["501", "502", "503"]
    with pytest.raises(ValueError):
        ceb.ceb_status("paid")


@pytest.mark.parametrize("kind", ["order", "payment", "waybill", "inventory"])
def test_receipts_validate_against_the_gacc_schema(kind: str) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    xml = ceb.render_receipt(
        kind=kind, status="released", reference="R-1", party_code="1105910159", at=at
    )
    root = parse_xml(xml)
    assert schema_problems(schema("cn_ceb", "ceb_import_business_node_202205.xsd"), root) == []
    status = root.findtext(".//{http://www.chinaport.gov.cn/ceb}returnStatus")
    assert status == ("800" if kind == "inventory" else "120")
    # returnTime is Beijing time (UTC+8)
    assert root.findtext(".//{http://www.chinaport.gov.cn/ceb}returnTime") == "20260102110405000"


def test_rejection_receipt_carries_reason() -> None:
    xml = ceb.render_receipt(
        kind="order",
        status="filed",
        rejected=True,
        reference="o1",
        party_code="P",
        info="goodsValue does not match",
    )
    root = etree.fromstring(xml)
    assert root.findtext(".//{*}returnStatus") == "100"
    assert root.findtext(".//{*}returnInfo") == "goodsValue does not match"


def test_tax_bill_and_its_status_for_a_cosmetics_parcel() -> None:
    """CEB816 from a real CN assessment: face cream carries consumption tax (15 %), and within
    the limits VAT and consumption tax are 70 % of the statutory amounts, duty 0."""
    from datetime import date

    from clearway.domain.filing import DeclarationReference, FilingDocument, Item, Party
    from clearway.ingestion.ceb import numbers, tax
    from clearway.revenue.assessor import PackAssessor

    doc = FilingDocument(
        filer_reference="COP-1",
        transport_document="SF0000000001",
        destination_country="CN",
        items=[
            Item("面霜", 1, Decimal("400.00"), hs_code="3304990000", origin_country="FR"),
            Item("图书", 2, Decimal("100.00"), hs_code="4901990000", origin_country="GB"),
        ],
        currency="CNY",
        consignee=Party(name="王芳", address="上海市浦东新区人民路1号", country="CN"),
        buyer=Party(name="王芳", identifier="11010519491231002X"),
        office="2244",
        declaration=DeclarationReference(declarant="3101900001", message_id="A" * 36),
    )
    a = PackAssessor.load_default().assess(doc, date(2026, 11, 2))
    assert "cbec_within_limits" in a.flags
    at = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    bill = parse_xml(tax.render_tax_bill(doc, a, consignment_id="cns_1", at=at))
    xsd = schema("cn_ceb", "ceb_import_business_node_202205.xsd")
    assert schema_problems(xsd, bill) == []
    c = "{http://www.chinaport.gov.cn/ceb}"
    lines = bill.findall(f".//{c}TaxListRd")
    cream, books = (
        {
            name: Decimal(ln.findtext(f"{c}{name}") or "")
            for name in ("taxPrice", "customsTax", "valueAddedTax", "consumptionTax")
        }
        for ln in lines
    )
    assert cream["taxPrice"] == Decimal("400.00") and books["taxPrice"] == Decimal("100.00")
    grossed = Decimal("400") / (1 - Decimal("0.15"))  # consumption tax is on a tax-inclusive base
    assert cream["consumptionTax"] == (grossed * Decimal("0.15") * Decimal("0.7")).quantize(
        Decimal("0.01")
    )
    assert cream["valueAddedTax"] == (grossed * Decimal("0.13") * Decimal("0.7")).quantize(
        Decimal("0.01")
    )
    assert books["consumptionTax"] == 0 and cream["customsTax"] == books["customsTax"] == 0
    assert Decimal(bill.findtext(f".//{c}valueAddedTax") or "") == a.total_of("vat")
    assert bill.findtext(f".//{c}agentCode") == "3101900001"
    invt = numbers.inventory_number("2244", 2026, "cns_1")
    assert len(invt) == 18 and invt.startswith("224420261")
    assert bill.findtext(f".//{c}invtNo") == invt
    status = parse_xml(
        tax.render_tax_status(consignment_id="cns_1", invt_no=invt, status=tax.CANCELLED, at=at)
    )
    assert schema_problems(xsd, status) == []
    assert status.findtext(f".//{c}taxNo") == numbers.tax_number(invt)
    assert status.findtext(f".//{c}status") == "3"
