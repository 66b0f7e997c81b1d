"""The commit's audit texts (`audit.Recorder`) are exactly what verification recomputes from the
rows read back (`canonical(event_content(row))`, `canonical(filing_content(row))`): a record
written by the fast path verifies, whatever the event's data holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clearway.domain.filing import encode
from clearway.storage import audit

_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.just(UTC))
)
_values = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=16,
)
_instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).flatmap(
    lambda naive: st.sampled_from(
        [naive, naive.replace(tzinfo=UTC), naive.replace(tzinfo=timezone(timedelta(hours=5)))]
    )
)
_words = st.text(min_size=1, max_size=12)


def _reference_events(rows: list[dict[str, Any]]) -> str:
    """As verification reads them: each data column parsed back from its JSON text."""
    contents = []
    for row in rows:
        stored = dict(row)
        stored["data"] = None if row["data"] is None else json.loads(row["data"])
        contents.append(audit.event_content(stored))
    return audit.canonical({"events": contents})


@settings(max_examples=300, deadline=None)
@given(
    kind=_words,
    at=_instants,
    actor=_words,
    from_status=st.none() | _words,
    to_status=st.none() | _words,
    data=st.dictionaries(st.text(max_size=6), _values, max_size=5),
)
def test_event_text_is_the_reference(
    kind: str,
    at: datetime,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    data: dict[str, Any],
) -> None:
    stored = encode(data).decode() if data else None
    record = audit.Recorder()
    record.event("con_1", kind, at, actor, from_status, to_status, data, stored)
    record.event("con_1", kind, at, actor, from_status, to_status, data, stored)  # cached instant
    row = {
        "kind": kind,
        "at": at,
        "actor": actor,
        "from_status": from_status,
        "to_status": to_status,
        "data": stored,
    }
    [(cid, what, when, text)] = record.records()  # one record for the consignment's events
    assert (cid, what, when) == ("con_1", "event", at)
    assert text == _reference_events([row, row])


def test_plain_and_unplain_data_both_reach_the_reference() -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for data in (
        {"amount": Decimal("3.96"), "lane": "green"},  # a Decimal is stored as text
        {"score": 0.125, "codes": ("A", "B")},  # a float, a tuple
        {"nested": {"list": [1, None, True, "x"]}},  # plain: taken as it is
        {"big": 2**64},
    ):
        stored = encode(data).decode()
        record = audit.Recorder()
        record.event("c", "decide", at, "system", "filed", "decided", data, stored)
        row = {"kind": "decide", "at": at, "actor": "system", "from_status": "filed"}
        row |= {"to_status": "decided", "data": stored}
        assert record.records()[0][3] == _reference_events([row]), data


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(_words, min_size=8, max_size=8),
    version=st.integers(min_value=1, max_value=2**31 - 1),
    warnings=st.none() | st.text(),
    received=_instants,
)
def test_filing_text_is_the_reference(
    words: list[str], version: int, warnings: str | None, received: datetime
) -> None:
    row = {
        "id": words[0],
        "consignment_id": words[1],
        "operator_id": words[2],
        "role": words[3],
        "filer_reference": words[4],
        "version": version,
        "body_hash": words[5],
        "body": words[6],
        "format": words[7],
        "kind": "declaration",
        "warnings": warnings,
        "received_at": received,
    }
    record = audit.Recorder()
    record.filing(row)
    assert record.records() == [
        (words[1], "filing", received, audit.canonical(audit.filing_content(row)))
    ]
