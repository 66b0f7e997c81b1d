from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from clearway.domain.filing import Collection, FilingDocument, Item, Order, Party, Payment
from clearway.ingestion.detect import parse
from clearway.simulation import formats


def _cn_parcel() -> FilingDocument:
    return FilingDocument(
        filer_reference="O-2026-1",
        transport_document="SF1234567890",
        master_document="784-12345675",
        destination_country="CN",
        items=[
            Item("Infant milk powder", 2, Decimal("300.00"), origin_country="NZ"),
            Item("Vitamin tablets", 1, Decimal("89.50"), origin_country="AU"),
        ],
        mode="express",
        currency="CNY",
        transport_cost=Decimal("20.00"),
        gross_mass_kg=Decimal("2.1"),
        packages=1,
        consignee=Party(name="王小明", address="北京市海淀区", country="CN"),
        buyer=Party(name="王小明", identifier="110101199001011234"),
        seller=Party(name="NZ Shop", identifier="1105910159"),
        platform=Party(name="Market", identifier="1105910158"),
        carrier=Party(name="Express Co", identifier="1101180326"),
        order=Order(id="O-2026-1", placed_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
    )


def test_cn_legs_parse_back_as_three_consistent_filings() -> None:
    legs = formats.cn_legs(_cn_parcel())
    [order] = parse(legs.order).records
    [payment] = parse(legs.payment).records
    [waybill] = parse(legs.waybill).records
    assert (order.role, payment.role, waybill.role) == ("platform", "payment_provider", "carrier")
    for record in (order, payment, waybill):
        assert record.ok, record.problems
        assert record.references["order_id"] == "O-2026-1"
    assert order.document is not None and payment.document is not None
    assert waybill.document is not None
    assert order.document.order is not None
    assert order.document.order.total == Decimal("409.50")
    assert payment.document.payment is not None
    assert payment.document.payment.amount == order.document.order.total
    assert payment.document.payment.payer_name == "王小明"
    assert order.document.items == _cn_parcel().items
    assert waybill.document.transport_document == "SF1234567890"
    assert waybill.document.gross_mass_kg == Decimal("2.1")


def test_cn_mismatch_can_be_produced_on_purpose() -> None:
    parcel = _cn_parcel()
    legs = formats.cn_legs(
        FilingDocument(
            **{
                **{f: getattr(parcel, f) for f in parcel.__struct_fields__},
                "payment": Payment(amount=Decimal("100.00")),
            }
        )
    )
    [payment] = parse(legs.payment).records
    assert payment.document is not None and payment.document.payment is not None
    assert payment.document.payment.amount == Decimal("100.00")


def test_h7_and_csv_renderers_round_trip() -> None:
    doc = FilingDocument(
        filer_reference="LRN-1",
        transport_document="LX123456785CN",
        destination_country="NL",
        items=[Item("Phone case", 1, Decimal("7.50"), "392690")],
        data_set="reduced",
        mode="post",
        currency="EUR",
        collection=Collection("vendor", "IM5280000001"),
        consignee=Party(name="Jan", identifier="NL000000000001"),
        office="NL000396",
        procedure_code="4000",
        additional_procedure_codes=["C07", "F48"],
    )
    [record] = parse(formats.h7_declaration(doc)).records
    assert record.document is not None and record.document.declaration is not None
    assert record.document.declaration.lrn == "LRN-1"
    # H7 adds the declaration's references and counts packages (one parcel)
    assert msgspec.structs.replace(record.document, declaration=None, packages=None) == doc
    for excel in (False, True):
        [record] = parse(formats.csv_file([doc], excel=excel)).records
        assert record.document == doc, record.problems
