from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from clearway.ingestion import cusrsp

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "kwargs", "answer"),
    [
        ("released", {}, "release"),
        ("returned_to_sender", {}, "return"),
        ("held", {"reasons": ["undervaluation suspected"]}, "hold"),
        ("inspected", {}, "hold"),
        ("seized", {}, "hold"),
        ("held", {"documents_requested": True}, "request_for_information"),
        ("filed", {"referral": "request_for_information"}, "request_for_information"),
        ("filed", {"referral": "do_not_load"}, "hold"),
    ],
)
def test_answer_for(status: str, kwargs: dict[str, object], answer: str) -> None:
    result = cusrsp.answer_for(status=status, item_id="RR123456785CN", at=AT, **kwargs)  # type: ignore[arg-type]
    assert result is not None and result.answer == answer


def test_hold_reasons_include_status() -> None:
    result = cusrsp.answer_for(status="held", item_id="RR123456785CN", reasons=["vague"], at=AT)
    assert result is not None and result.reasons == ["vague", "held"]


@pytest.mark.parametrize("status", ["filed", "assessed", "decided", "arrived"])
def test_no_answer_before_the_border_decides(status: str) -> None:
    assert cusrsp.answer_for(status=status, item_id="RR123456785CN") is None


def test_json_round_trip() -> None:
    answer = cusrsp.answer_for(
        status="released",
        item_id="RR123456785CN",
        amount_due=Decimal("3.80"),
        currency="EUR",
        consignment_id="cns_1",
        at=AT,
    )
    assert answer is not None
    body = cusrsp.to_json([answer])
    assert b'"amount_due":"3.80"' in body
    assert cusrsp.from_json(body) == [answer]
