"""Per-item answers to posts in a CUSRSP-like shape: release, hold with reason, request for
information, return. A data structure and its JSON; no XML dialect is invented for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import msgspec

AnswerCode = Literal["release", "hold", "request_for_information", "return"]


class ItemAnswer(msgspec.Struct, omit_defaults=True, frozen=True):
    """Customs' answer about one postal item, keyed by its UPU S10 id."""

    item_id: str
    answer: AnswerCode
    issued_at: datetime
    reasons: list[str] = []
    consignment_id: str | None = None
    amount_due: Decimal | None = None  # duty and tax to collect before delivery, if any
    currency: str | None = None


_HOLD_STATUSES = {"held", "inspected", "seized", "abandoned"}


def answer_for(
    *,
    status: str,
    item_id: str,
    reasons: Sequence[str] = (),
    referral: str | None = None,
    documents_requested: bool = False,
    consignment_id: str | None = None,
    amount_due: Decimal | None = None,
    currency: str | None = None,
    at: datetime | None = None,
) -> ItemAnswer | None:
    """The answer a post receives for an item in lifecycle `status`, or None while none is due.

    released → release; returned_to_sender → return; held / inspected / seized / abandoned →
    hold with reasons (status added as a reason); a pre-loading referral of
    `request_for_information`, or `documents_requested` on a hold → request_for_information.
    Statuses before a decision reaches the border (filed, assessed, decided, arrived) give None.
    """
    when = at or datetime.now(UTC)
    why = list(reasons)
    answer: AnswerCode
    if referral == "request_for_information" or (documents_requested and status == "held"):
        answer = "request_for_information"
    elif status == "released":
        answer = "release"
    elif status == "returned_to_sender":
        answer = "return"
    elif status in _HOLD_STATUSES or referral in ("request_for_screening", "do_not_load"):
        answer = "hold"
        label = referral if status not in _HOLD_STATUSES and referral else status
        if label and label not in why:
            why.append(label)
    else:
        return None
    return ItemAnswer(
        item_id=item_id,
        answer=answer,
        issued_at=when,
        reasons=why,
        consignment_id=consignment_id,
        amount_due=amount_due,
        currency=currency,
    )


_ENCODER = msgspec.json.Encoder(decimal_format="string")


def to_json(answers: Iterable[ItemAnswer]) -> bytes:
    """`{"answers": [...]}` with decimals as strings and timestamps in RFC 3339."""
    return _ENCODER.encode({"answers": list(answers)})


def from_json(body: bytes) -> list[ItemAnswer]:
    class _Envelope(msgspec.Struct):
        answers: list[ItemAnswer]

    return msgspec.json.decode(body, type=_Envelope).answers
