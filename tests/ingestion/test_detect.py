from __future__ import annotations

import pytest

from clearway.ingestion.detect import detect, parse
from clearway.ingestion.records import FormatError

from .conftest import CEB_SAMPLES, H7_SAMPLES, filled

FILING = (
    b'{"filer_reference":"A","transport_document":"LX123456785CN","destination_country":"DE",'
    b'"items":[{"description":"Shoes","value":"40.00"}]}'
)


def test_detects_each_format() -> None:
    assert detect(filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml")) == "h7"
    assert detect((CEB_SAMPLES / "CEB311Message.xml").read_bytes()) == "ceb"  # has a BOM
    assert detect(FILING) == "json"
    assert detect(b"[" + FILING + b"]") == "json"
    assert detect(FILING + b"\n" + FILING + b"\n") == "jsonl"
    assert detect(b"filer_reference;transport_document\nA;B\n") == "csv"


def test_unknown_inputs() -> None:
    with pytest.raises(FormatError):
        detect(b"hello")
    with pytest.raises(FormatError) as caught:
        detect(b"<root xmlns='urn:other'/>")
    assert caught.value.problems[0].code == "format.unknown_xml"
    with pytest.raises(FormatError):
        parse(FILING, "edifact")


def test_json_amounts_stay_exact_decimals() -> None:
    [record] = parse(FILING.replace(b'"40.00"', b"0.1")).records
    assert record.document is not None
    assert str(record.document.items[0].value) == "0.1"


def test_json_errors_point_at_the_field() -> None:
    batch = parse(b"[" + FILING + b',{"filer_reference":"B","items":[{"quantity":"x"}]}]')
    good, bad = batch.records
    assert good.ok and good.references["transport_document"] == "LX123456785CN"
    assert bad.document is None and bad.filer_reference == "B"
    assert bad.problems[0].path.startswith("1")


def test_jsonl_line_errors() -> None:
    batch = parse(FILING + b"\n{not json\n" + FILING + b"\n", "jsonl")
    assert [r.ok for r in batch.records] == [True, False, True]
    assert batch.records[1].source_ref == "line 2"
    assert len(batch.documents) == 2


def test_wrapped_filings_object() -> None:
    batch = parse(b'{"filings": [' + FILING + b"]}")
    assert len(batch.documents) == 1
