"""Request and response shapes of the HTTP API (msgspec Structs; they feed the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import msgspec

from clearway.clearance.batch import Outcome
from clearway.domain.assessment import Assessment
from clearway.domain.decision import Decision
from clearway.domain.filing import FilingDocument


class ProblemItem(msgspec.Struct):
    path: str
    code: str
    message: str
    severity: str = "error"


class ProblemDocument(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, with every input problem listed in `problems`."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    problems: list[ProblemItem] = []


class FilingResultOut(msgspec.Struct, omit_defaults=True):
    index: int
    outcome: Outcome
    filer_reference: str | None = None
    consignment_id: str | None = None
    status: str | None = None
    version: int | None = None
    decision: Decision | None = None
    problems: list[ProblemItem] = []


class BatchOut(msgspec.Struct):
    accepted: int
    rejected: int
    results: list[FilingResultOut]


class HoldOut(msgspec.Struct, omit_defaults=True):
    id: str
    authority: str
    reason: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None = None
    lifted_at: datetime | None = None
    lift_reason: str | None = None


class EventOut(msgspec.Struct, omit_defaults=True):
    kind: str
    at: datetime
    actor: str
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] = {}


class FilingRef(msgspec.Struct):
    id: str
    operator: str
    role: str
    filer_reference: str
    version: int
    format: str
    received_at: datetime


class ConsignmentOut(msgspec.Struct, omit_defaults=True):
    id: str
    transport_document: str
    status: str
    payment_status: str
    version: int
    document: FilingDocument
    decision: Decision | None = None
    assessment: Assessment | None = None
    holds: list[HoldOut] = []
    filings: list[FilingRef] = []
    events: list[EventOut] = []
    mrn: str | None = None  # EU DMS: the movement reference number issued on acceptance
    # the stored rows checked against the consignment's hash-chained record when served:
    # false with the first broken link when someone changed the database behind the API;
    # absent for a consignment written before the chain existed
    record_intact: bool | None = None
    record_break: str | None = None


class ArrivalIn(msgspec.Struct, forbid_unknown_fields=True):
    transport_documents: list[str]
    office: str | None = None


class ArrivalOut(msgspec.Struct, omit_defaults=True):
    transport_document: str
    answer: Literal["release", "hold", "unknown"]
    consignment_id: str | None = None
    status: str | None = None
    reasons: list[str] = []


class ArrivalsOut(msgspec.Struct):
    results: list[ArrivalOut]


class ActionIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    action: Literal[
        "request_documents",
        "record_inspection",
        "hold",
        "lift_hold",
        "release",
        "seize",
        "return_to_sender",
        "abandon",
        "resolve_referral",
    ]
    reason: str | None = None
    found: bool | None = None
    corrected_value: Decimal | None = None
    corrected_hs_code: str | None = None
    notes: str | None = None
    hold_id: str | None = None
    resolution: Literal["information_supplied", "screening_result", "officer_decision"] | None = (
        None
    )


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Decimal
    currency: str
    reference: str


class NoticeOut(msgspec.Struct):
    cursor: int
    notice: dict[str, Any]


class NoticesOut(msgspec.Struct):
    notices: list[NoticeOut]
    next_cursor: int


class Health(msgspec.Struct):
    status: str
    database: str
    version: str
    queue: str | None = None  # NATS JetStream, in the queued runtime
    fx_rates_newest: str | None = None  # the newest exchange-rate publication held
    fx_rates_warning: str | None = None  # set when that publication is stale
