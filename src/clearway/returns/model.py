"""Returns and refunds as plain records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ReturnedItem:
    item: int  # index in the inbound parcel's items
    quantity: int


@dataclass(frozen=True, slots=True)
class ReturnWindow:
    """What the destination's law says about returns on the day they are filed."""

    window_days: int | None
    goods_back_days: int | None
    restores_quota: bool
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class QuotaRestore:
    consignment_id: str
    amount: Decimal  # positive: what is taken off the person's usage
    currency: str


@dataclass(frozen=True, slots=True)
class Return:
    id: str
    consignment_id: str
    return_document: str
    items: tuple[ReturnedItem, ...]
    within_window: bool
    window_ends: date | None
    goods_back_by: date | None
    quota_restored: Decimal | None
    reason: str | None
    filed_by: str
    filed_at: datetime


@dataclass(frozen=True, slots=True)
class RefundLine:
    item: int | None
    kind: str
    rate: str | None
    amount: Decimal  # positive: what is given back


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    consignment_id: str
    return_id: str | None
    account_id: str | None  # the collecting account whose next declaration shows it
    claimant: str
    items: tuple[ReturnedItem, ...]
    currency: str
    amount: Decimal
    lines: tuple[RefundLine, ...]
    status: str  # approved | refused
    reasons: tuple[str, ...]
    claimed_at: datetime
    period_id: str | None = None


@dataclass(slots=True)
class Inbound:
    """The inbound parcel a return refers to, as returns need it."""

    consignment_id: str
    transport_document: str
    status: str
    released_on: date | None
    destination_country: str
    quantities: list[int]
    values: list[Decimal]
    owners: set[str] = field(default_factory=set)  # operators that filed about it
