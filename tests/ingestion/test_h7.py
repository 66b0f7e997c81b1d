from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from clearway.domain.filing import Collection, FilingDocument, Item, Party
from clearway.domain.validation import check_filing
from clearway.ingestion.detect import parse
from clearway.ingestion.dms.writer import render_declaration
from clearway.ingestion.xml_safety import parse_xml, schema, schema_problems

from .conftest import H7_SAMPLES, filled

EXPECTED = {
    # file: (kind, action)
    "h7_standard_v2.1.xml": ("declaration", "new"),
    "h7_standard_v2.2.xml": ("declaration", "new"),
    "h7_prelodged_v2.1.xml": ("declaration", "new"),
    "h7_prelodged_v2.2.xml": ("declaration", "new"),
    "h7_amendment_v2.2.xml": ("amendment", "amend"),
    "h7_amendment_v2.3.xml": ("amendment", "amend"),
    "h7_correction_v2.2.xml": ("amendment", "amend"),
    "h7_correction_v2.3.xml": ("amendment", "amend"),
    "h7_invalidation_v2.2.xml": ("invalidation", "cancel"),
    "h7_invalidation_and_repayment_4c_v2.2.xml": ("invalidation", "cancel"),
    "h7_repayment_4c_v1.0.xml": ("repayment_application", "new"),
    "h1_standard_v1.4.xml": ("declaration", "new"),
    "h1_prelodged_v1.2.xml": ("declaration", "new"),
    "h1_amendment_v1.2.xml": ("amendment", "amend"),
    "h1_correction_v1.2.xml": ("amendment", "amend"),
    "h1_invalidation_v1.3.xml": ("invalidation", "cancel"),
    "h1_invalidation_and_repayment_4c_v1.3.xml": ("invalidation", "cancel"),
    "h1_remission_v1.1.xml": ("repayment_application", "new"),
    "h1_repayment_v1.2.xml": ("repayment_application", "new"),
}


def test_every_sample_is_covered() -> None:
    names = {p.name for p in H7_SAMPLES.glob("*/*.xml")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_is_ingested(name: str) -> None:
    path = next(H7_SAMPLES.glob(f"*/{name}"))
    batch = parse(filled(path))
    assert batch.format == "h7"
    [record] = batch.records
    assert (record.kind, record.action) == EXPECTED[name]
    assert record.ok, record.problems
    assert record.role == "broker"
    assert record.filer_reference == "CW-LRN-0001"
    if record.kind in ("declaration", "amendment"):
        assert record.document is not None
    else:
        assert record.document is None
        assert record.references["mrn"] == "25DK000000000001A1"


def test_standard_declaration_maps_data_elements() -> None:
    [record] = parse(filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml")).records
    doc = record.document
    assert doc is not None
    assert doc.data_set == "reduced"
    assert doc.filer_reference == "CW-LRN-0001"
    assert doc.transport_document == "123456"
    assert doc.mode == "express"  # N740 air waybill
    assert doc.destination_country == "DK"
    assert doc.office == "DK005600"
    assert doc.currency == "DKK"
    assert doc.transport_cost == Decimal("100")
    assert doc.gross_mass_kg == Decimal("10")
    assert doc.procedure_code == "4000"
    assert doc.additional_procedure_codes == ["F49"]
    assert doc.collection == Collection("intermediary")
    assert doc.consignor == Party(
        name="Hej Hejsen", address="Street 12", city="City", postcode="8000", country="CA"
    )
    assert doc.consignee is not None and doc.consignee.identifier == "DK09999981"
    [item] = doc.items
    # DE 18 06 is the number of packages, not a quantity of goods
    assert (item.hs_code, item.value, item.quantity) == ("482090", Decimal("1000"), 1)
    assert doc.packages == 2
    assert item.description == "Hej Hej Hej"
    assert record.references["declarant"] == "DK12345678"
    assert doc.declaration is not None
    assert (doc.declaration.lrn, doc.declaration.type_code, doc.declaration.declarant) == (
        "CW-LRN-0001",
        "IMA",
        "DK12345678",
    )
    assert (doc.declaration.submitter, doc.declaration.office) == ("12345678", "DK005600")
    assert doc.declaration.message_id and len(doc.declaration.message_id) == 64


def test_importer_identified_by_eori_alone_is_complete() -> None:
    [record] = parse(filled(H7_SAMPLES / "h7" / "h7_standard_v2.1.xml")).records
    doc = record.document
    assert doc is not None and doc.consignee == Party(identifier="DK87654321")
    assert doc.destination_country == "DK"  # from the office of lodgement
    assert [p for p in check_filing(doc, today=date(2026, 11, 2)) if p.severity == "error"] == []
    anonymous = msgspec.structs.replace(doc, consignee=Party(identifier="not an eori"))
    paths = {p.path for p in check_filing(anonymous, today=date(2026, 11, 2))}
    assert {"/consignee/name", "/consignee/address", "/consignee/country"} <= paths


def test_prelodged_keeps_its_additional_declaration_type() -> None:
    [record] = parse(filled(H7_SAMPLES / "h7" / "h7_prelodged_v2.2.xml")).records
    assert record.document is not None and record.document.declaration is not None
    assert record.document.declaration.type_code == "IMD"


def test_amendment_keeps_mrn_and_change_reason() -> None:
    [record] = parse(filled(H7_SAMPLES / "h7" / "h7_amendment_v2.3.xml")).records
    ref = record.document.declaration if record.document else None
    assert ref is not None
    assert (ref.mrn, ref.function_code, ref.change_reason_code, ref.change_reason_text) == (
        "25DK000000000001A1",
        "4",
        "5",
        "Corrected by declarant",
    )
    assert ref.office == "DK004700"


def test_h1_builds_the_full_commodity_code_and_origin() -> None:
    [record] = parse(filled(H7_SAMPLES / "h1" / "h1_standard_v1.4.xml")).records
    assert record.document is not None
    assert record.document.data_set == "full"
    [item] = record.document.items
    assert item.hs_code == "0804300090"
    assert item.origin_country == "CN"
    assert item.net_mass_kg == Decimal("850")
    assert record.document.additional_procedure_codes == []  # 000 means none


def test_unfilled_placeholder_in_repayment_is_rejected_by_the_schema() -> None:
    raw = (H7_SAMPLES / "h7" / "h7_repayment_4c_v1.0.xml").read_bytes()
    [record] = parse(raw).records
    assert not record.ok
    assert {p.code for p in record.problems} == {"h7.schema"}
    assert any("ApplicationHolderId" in p.message for p in record.problems)


def test_schema_violation_is_reported_not_mapped() -> None:
    raw = filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml").replace(
        b"<ns2:TypeCode>IMA</ns2:TypeCode>", b"<ns2:Bogus>1</ns2:Bogus>"
    )
    [record] = parse(raw).records
    assert record.document is None
    assert record.problems[0].code == "h7.schema"
    assert record.problems[0].path == "/Declaration/Bogus"
    assert record.problems[0].message.startswith("line 6:")


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (
            b'currencyID="DKK">1000<',
            b'currencyID="DKK">12,50<',
            "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine/"
            "ItemChargeAmount",
        ),
        (b"<ns2:FunctionalReferenceID>CW-LRN-0001</ns2:FunctionalReferenceID>", b"", "/"),
        (
            b"<ns2:Description>Hej Hej Hej </ns2:Description>",
            b"<ns2:Description>" + b"x" * 3_000_000 + b"</ns2:Description>",
            "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Description",
        ),
    ],
    ids=["decimal-comma", "missing-lrn", "3mb-description"],
)
def test_schema_errors_carry_xpath_and_line(old: bytes, new: bytes, path: str) -> None:
    raw = filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml")
    assert old in raw
    [record] = parse(raw.replace(old, new)).records
    assert record.document is None and not record.ok
    problem = record.problems[0]
    assert problem.code == "h7.schema" and problem.message.startswith("line ")
    if path != "/":
        assert problem.path == path
    else:
        assert problem.path.startswith("/Declaration")


def test_unknown_function_code() -> None:
    raw = filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml").replace(
        b"<ns2:FunctionCode>9<", b"<ns2:FunctionCode>77<"
    )
    [record] = parse(raw).records
    assert [p.code for p in record.problems] == ["h7.function_code"]


def test_ioss_number_from_domestic_duty_tax_party() -> None:
    raw = filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml")
    raw = raw.replace(
        b"<ns2:GoodsMeasure>\n            <ns2:GrossMassMeasure>10",
        b"<ns2:DomesticDutyTaxParty><ns2:SequenceNumeric>1</ns2:SequenceNumeric>"
        b"<ns2:ID>IM2500000001</ns2:ID><ns2:RoleCode>FR5</ns2:RoleCode>"
        b"</ns2:DomesticDutyTaxParty>\n        <ns2:GoodsMeasure>\n"
        b"            <ns2:GrossMassMeasure>10",
        1,
    ).replace(b"<ns2:CurrentCode>F49<", b"<ns2:CurrentCode>F48<")
    [record] = parse(raw).records
    assert record.ok, record.problems
    assert record.document is not None
    assert record.document.collection == Collection("vendor", "IM2500000001")


def _h7_doc(**changes: object) -> FilingDocument:
    base = FilingDocument(
        filer_reference="LRN-42",
        transport_document="LX123456785CN",
        destination_country="DE",
        items=[
            Item("Cotton T-shirt", 2, Decimal("19.90"), "610910", gross_mass_kg=Decimal("0.4")),
            Item("Phone case", 1, Decimal("7.50"), "392690"),
        ],
        data_set="reduced",
        mode="post",
        currency="EUR",
        transport_cost=Decimal("4.20"),
        collection=Collection("vendor", "IM2760000001"),
        consignor=Party(
            name="Shop Ltd", address="1 Road", city="Shenzhen", postcode="518000", country="CN"
        ),
        consignee=Party(
            name="Anna Muster",
            identifier="DE000000000001",
            address="Weg 1",
            city="Berlin",
            postcode="10115",
            country="DE",
        ),
        office="DE004800",
        gross_mass_kg=Decimal("0.6"),
        procedure_code="4000",
        additional_procedure_codes=["C07", "F48"],
    )
    return base if not changes else FilingDocument(**{**_fields(base), **changes})  # type: ignore[arg-type]


def _fields(doc: FilingDocument) -> dict[str, object]:
    return {f: getattr(doc, f) for f in doc.__struct_fields__}


def _as_read(doc: FilingDocument) -> FilingDocument:
    """What H7 carries back: no quantity of goods (one line each), packages, no references."""
    items = [msgspec.structs.replace(i, quantity=1) for i in doc.items]
    return msgspec.structs.replace(doc, items=items, packages=doc.packages or 1)


def _without_references(doc: FilingDocument | None) -> FilingDocument | None:
    return None if doc is None else msgspec.structs.replace(doc, declaration=None)


@pytest.mark.parametrize("mode", ["post", "express", "road", "sea", "rail"])
def test_round_trip_render_parse(mode: str) -> None:
    doc = _h7_doc(mode=mode)
    xml = render_declaration(doc, declarant_eori="DE123456789012345")
    assert not schema_problems(schema("eu_dms", "H7_XSDS", "DMS_H7_V1.9.xsd"), parse_xml(xml))
    [record] = parse(xml).records
    assert record.ok, record.problems
    assert _without_references(record.document) == _as_read(doc)


def test_round_trip_amendment() -> None:
    doc = _h7_doc(collection=Collection("intermediary"), additional_procedure_codes=["C07", "F49"])
    xml = render_declaration(doc, declarant_eori="DE1", amendment_of="25DE000000000001A1")
    [record] = parse(xml).records
    assert (record.kind, record.action) == ("amendment", "amend")
    assert record.references["mrn"] == "25DE000000000001A1"
    assert _without_references(record.document) == _as_read(doc)


def test_renderer_derives_additional_procedure_codes() -> None:
    doc = _h7_doc(additional_procedure_codes=[])
    [record] = parse(render_declaration(doc, declarant_eori="DE1")).records
    assert record.document is not None
    assert record.document.additional_procedure_codes == ["C07", "F48"]
    gift = _h7_doc(additional_procedure_codes=[], category="gift", collection=None)
    [record] = parse(render_declaration(gift, declarant_eori="DE1")).records
    assert record.document is not None and record.document.category == "gift"


def test_h1_round_trip_with_an_eori_only_importer() -> None:
    doc = _h7_doc(
        data_set="full",
        mode="air_cargo",
        collection=None,
        additional_procedure_codes=[],
        dispatch_country="CN",
        transport_cost=None,  # H1 carries transport costs in the valuation, not as freight
        consignee=Party(identifier="DE123456789012345"),
        items=[
            Item(
                "Bluetooth speaker",
                1,
                Decimal("480.00"),
                "8518220090",
                origin_country="CN",
                net_mass_kg=Decimal("1.2"),
                gross_mass_kg=Decimal("1.5"),
            )
        ],
    )
    xml = render_declaration(doc, declarant_eori="DE123456789012345")
    assert b"<ns2:ProcedureCategory>H1<" in xml
    h1 = schema("eu_dms", "H1_XSDS", "DMS_H1_V2.3.xsd")
    assert not schema_problems(h1, parse_xml(xml)), schema_problems(h1, parse_xml(xml))
    [record] = parse(xml).records
    assert record.ok, record.problems
    assert record.document is not None
    assert record.document.consignee == Party(identifier="DE123456789012345")
    assert _without_references(record.document) == _as_read(
        msgspec.structs.replace(doc, mode="express")  # N740 air waybill reads back as express
    )
