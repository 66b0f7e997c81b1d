"""Files of canonical JSON records: an object, an array of them, or one per line, read strictly."""

from __future__ import annotations

import msgspec

from clearway.clearance.intake import read_submissions
from tests.conftest import make_filing


def _line(**changes: str) -> bytes:
    return msgspec.json.encode(make_filing(**changes))


def _deep(levels: int = 1000) -> bytes:
    return b'{"filer_reference":' + b"[" * levels + b"]" * levels + b"}"


def test_json_lines_are_read_one_record_each() -> None:
    body = b"\n".join([_line(), b"", _line(filer_reference="ORD-2")])
    subs = list(read_submissions(body))
    assert [s.document.filer_reference for s in subs if s.document] == ["ORD-1001", "ORD-2"]


def test_a_deep_line_is_refused_alone_and_the_others_are_read() -> None:
    subs = list(read_submissions(b"\n".join([_line(), _deep(), _line(filer_reference="ORD-3")])))
    assert len(subs) == 3
    assert subs[0].document is not None and subs[2].document is not None
    assert subs[1].document is None and [p.code for p in subs[1].problems] == ["too_deep"]


def test_a_deep_first_line_or_array_or_object_is_refused_as_too_deep() -> None:
    for body in (
        b"\n".join([_deep(), _line()]),
        b"[" + _line() + b"," + _deep() + b"]",
        b"[" * 5000,
        _deep(),
    ):
        [sub] = list(read_submissions(body))
        assert sub.document is None and [p.code for p in sub.problems] == ["too_deep"], body[:40]


def test_an_array_of_records_is_read_one_record_each() -> None:
    subs = list(read_submissions(b"[" + _line() + b"," + _line(filer_reference="ORD-4") + b"]"))
    assert [s.document.filer_reference for s in subs if s.document] == ["ORD-1001", "ORD-4"]
