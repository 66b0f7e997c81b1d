"""Every parser, fed arbitrary or mangled input, either parses or raises a clean InvalidInput."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearway.ingestion.detect import parse
from clearway.kernel.errors import InvalidInput

from .conftest import CEB_SAMPLES, H7_SAMPLES, filled

SEEDS = [
    filled(H7_SAMPLES / "h7" / "h7_standard_v2.2.xml"),
    filled(H7_SAMPLES / "h1" / "h1_standard_v1.4.xml"),
    (CEB_SAMPLES / "CEB311Message.xml").read_bytes()[:6000],
    (CEB_SAMPLES / "CEB621Message.xml").read_bytes()[:6000],
    b'{"filer_reference":"A","transport_document":"B","destination_country":"DE","items":[]}',
    b"filer_reference;transport_document;destination_country;item_description\nA;B;DE;x\n",
]
FORMATS = [None, "json", "jsonl", "h7", "ceb", "csv"]
FUZZ = settings(
    max_examples=int(os.environ.get("CLEARWAY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _parse_cleanly(content: bytes, fmt: str | None) -> None:
    try:
        batch = parse(content, fmt)
    except InvalidInput as exc:
        assert exc.problems, "a refusal names its problems"
        return
    for record in batch.records:
        assert (
            record.document is not None
            or record.problems
            or record.action != "new"
            or record.kind in ("repayment_application",)
        )


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(FORMATS))
def test_random_bytes(content: bytes, fmt: str | None) -> None:
    _parse_cleanly(content, fmt)


@FUZZ
@given(
    st.sampled_from(SEEDS),
    st.integers(min_value=0, max_value=5999),
    st.binary(min_size=0, max_size=40),
    st.integers(min_value=0, max_value=60),
    st.sampled_from(FORMATS),
)
def test_mutated_samples(seed: bytes, at: int, insert: bytes, cut: int, fmt: str | None) -> None:
    at = at % (len(seed) + 1)
    _parse_cleanly(seed[:at] + insert + seed[at + cut :], fmt)


TEXT_VALUES = st.text(max_size=30)


@FUZZ
@given(st.lists(st.lists(TEXT_VALUES, min_size=1, max_size=9), max_size=8), st.sampled_from(",;\t"))
def test_csv_cells(rows: list[list[str]], delimiter: str) -> None:
    header = delimiter.join(
        [
            "filer_reference",
            "transport_document",
            "destination_country",
            "item_description",
            "item_quantity",
            "item_value",
            "item_hs_code",
            "currency",
            "legal_date",
        ]
    )
    body = "\n".join([header] + [delimiter.join(r) for r in rows]).encode()
    _parse_cleanly(body, "csv")


H7_FIELDS = [b"482090", b"1000", b"100", b"DKK", b"DK", b"123456", b"10", b"F49", b"40", b"2"]


@FUZZ
@given(st.sampled_from(H7_FIELDS), st.text(max_size=20))
def test_h7_field_values(field: bytes, value: str) -> None:
    seed = SEEDS[0]
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "replace")
    _parse_cleanly(seed.replace(b">" + field + b"<", b">" + escaped + b"<", 1), "h7")


CEB_FIELDS = [b"142", b"116", b"19050", b"100", b"20", b"2000", b"order20160321116421002"]


@FUZZ
@given(st.sampled_from(CEB_FIELDS), st.text(max_size=20))
def test_ceb_field_values(field: bytes, value: str) -> None:
    seed = (CEB_SAMPLES / "CEB311Message.xml").read_bytes()
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "replace")
    _parse_cleanly(seed.replace(b">" + field + b"<", b">" + escaped + b"<", 1), "ceb")
