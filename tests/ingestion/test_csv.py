from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from clearway.domain.filing import Collection, FilingDocument, Item, Order, Party, Payment
from clearway.ingestion import csv_filing
from clearway.ingestion.detect import parse
from clearway.ingestion.records import FormatError

HEADER = ",".join(
    [
        "filer_reference",
        "transport_document",
        "destination_country",
        "currency",
        "item_description",
        "item_quantity",
        "item_value",
        "item_hs_code",
    ]
)


def test_rows_group_into_filings_by_filer_reference() -> None:
    body = (
        HEADER + "\n"
        "A1,LX123456785CN,DE,EUR,Shoes,1,40.00,640399\n"
        "A2,LX000000015CN,FR,EUR,Hat,1,9.99,650500\n"
        "A1,LX123456785CN,DE,EUR,Socks,3,6.00,611595\n"
    ).encode()
    batch = parse(body)
    assert batch.format == "csv"
    first, second = batch.records
    assert first.source_ref == "rows 2-4" and second.source_ref == "row 3"
    assert first.document is not None
    assert [i.description for i in first.document.items] == ["Shoes", "Socks"]
    assert first.document.intrinsic_value == Decimal("46.00")
    assert second.document is not None and second.document.destination_country == "FR"


def test_excel_export_bom_semicolon_decimal_comma() -> None:
    body = (
        "\ufeff" + HEADER.replace(",", ";") + "\r\n"
        "A1;LX123456785CN;DE;EUR;Kaffeemaschine;1;1.234,50;851671\r\n"
        "A1;LX123456785CN;DE;EUR;Filter;2;3,5;482390\r\n"
    ).encode("utf-8")
    [record] = parse(body).records
    assert record.ok, record.problems
    assert record.document is not None
    assert [i.value for i in record.document.items] == [Decimal("1234.50"), Decimal("3.5")]


def test_utf16_and_cp1252_exports() -> None:
    text = HEADER + "\nA1,LX123456785CN,DE,EUR,Café crème,1,4.00,090121\n"
    for body in (text.encode("utf-16"), text.encode("cp1252")):
        [record] = parse(body, "csv").records
        assert record.document is not None
        assert record.document.items[0].description == "Café crème"


def test_row_level_errors_name_row_and_column() -> None:
    body = (
        HEADER + "\n"
        "A1,LX123456785CN,DE,EUR,Shoes,one,40.00,640399\n"
        "A1,LX123456785CN,FR,EUR,Socks,1,abc,611595\n"
        ",LX1,DE,EUR,Hat,1,1,650500\n"
        "A3,LX2,XX,EUR,Hat,1,1,12\n"
    ).encode()
    records = parse(body).records
    a1, a3, orphan = records
    assert a1.document is None
    paths = {(p.path, p.code) for p in a1.problems}
    assert ("rows/2/item_quantity", "amount.invalid") in paths
    assert ("rows/3/destination_country", "csv.conflict") in paths
    assert ("rows/3/item_value", "amount.invalid") in paths
    assert {p.code for p in a3.problems} == {"country.unknown", "hs.shape"}
    assert orphan.problems[0].path == "rows/4/filer_reference"
    report = list(csv.reader(io.StringIO(csv_filing.error_report(records).decode())))
    assert report[0] == ["source", "path", "severity", "code", "message"]
    assert ["rows 2-3", "rows/2/item_quantity", "error", "amount.invalid"] in [
        r[:4] for r in report
    ]


def test_missing_required_columns_refuses_the_file() -> None:
    with pytest.raises(FormatError) as caught:
        parse(b"filer_reference,item_description\nA,b\n", "csv")
    assert caught.value.problems[0].code == "csv.columns"


def test_unknown_columns_are_a_warning() -> None:
    body = (HEADER + ",colour\nA1,LX123456785CN,DE,EUR,Shoes,1,40.00,640399,red\n").encode()
    [record] = parse(body).records
    assert record.ok
    assert record.problems[0].code == "csv.unknown_columns"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12,50", "12.50"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("7", "7"),
        ("1 234,5", "1234.5"),
    ],
)
def test_amount_normalisation(raw: str, expected: str) -> None:
    assert csv_filing.normalise_amount(raw) == expected


def test_round_trip_render_parse() -> None:
    doc = FilingDocument(
        filer_reference="R-1",
        transport_document="LX123456785CN",
        destination_country="DE",
        items=[
            Item(
                "Shoes",
                1,
                Decimal("40.00"),
                "640399",
                "CN",
                Decimal("0.8"),
                "https://x.test/s",
                Decimal("1.1"),
            ),
            Item("Socks", 3, Decimal("6.00"), "611595"),
        ],
        data_set="reduced",
        mode="express",
        master_document="176-12345675",
        legal_date=date(2026, 3, 1),
        dispatch_country="CN",
        currency="EUR",
        transport_cost=Decimal("5.00"),
        insurance_cost=Decimal("0.50"),
        category="gift",
        collection=Collection("vendor", "IM2760000001"),
        consignor=Party(
            name="Shop", address="1 Rd", city="Shenzhen", postcode="518000", country="CN"
        ),
        consignee=Party(
            name="Anna",
            address="Weg 1",
            city="Berlin",
            postcode="10115",
            country="DE",
            email="anna@example.test",
        ),
        seller=Party(name="Shop", country="CN"),
        platform=Party(name="Market"),
        order=Order(id="O-1", total=Decimal("51.50")),
        payment=Payment(id="P-1", amount=Decimal("51.50"), payer_name="Anna"),
        office="DE004800",
        gross_mass_kg=Decimal("1.2"),
        packages=1,
    )
    for delimiter in (",", ";"):
        [record] = parse(csv_filing.render_rows([doc], delimiter), "csv").records
        assert record.ok, record.problems
        assert record.document == doc
