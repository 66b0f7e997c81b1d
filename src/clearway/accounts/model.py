"""Plain records of accounts and collection: registrations, accounts, liabilities, periods."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from clearway.kernel.errors import Problem

RegistrationStatus = Literal["active", "suspended", "revoked"]
REGISTRATION_STATUSES: tuple[str, ...] = ("active", "suspended", "revoked")
SCHEMES: tuple[str, ...] = ("ioss", "intermediary", "voec", "uk_vat", "au_gst", "cbec", "national")
# Number shapes per scheme; "national" takes any national equivalent of 4..40 characters.
NUMBER_PATTERNS: dict[str, re.Pattern[str]] = {
    "ioss": re.compile(r"IM\d{10}"),
    "intermediary": re.compile(r"IN\d{10}"),
    "voec": re.compile(r"VOEC\d{7}"),
    "uk_vat": re.compile(r"GB\d{9}(\d{3})?"),
    "au_gst": re.compile(r"\d{11,12}"),  # ABN (11 digits) or ARN (12), as the AU pack reads
    "cbec": re.compile(r"[0-9A-Z]{10,18}"),
    "national": re.compile(r"[0-9A-Z\-]{4,40}"),
}


def number_problem(scheme: str, number: str) -> Problem | None:
    if scheme not in NUMBER_PATTERNS:
        return Problem("/scheme", "unknown_scheme", f"scheme is one of {', '.join(SCHEMES)}")
    if not NUMBER_PATTERNS[scheme].fullmatch(number):
        return Problem(
            "/number",
            "bad_number",
            f"{number!r} is not a {scheme} number ({NUMBER_PATTERNS[scheme].pattern})",
        )
    return None


@dataclass(frozen=True, slots=True)
class Registration:
    id: str
    number: str
    operator_id: str
    scheme: str
    jurisdiction: str
    valid_from: date
    valid_until: date | None
    status: str
    aeo: bool
    account_id: str | None
    created_at: datetime
    updated_at: datetime
    status_reason: str | None = None

    def standing(self, on: date) -> str:
        """`valid` when active and within its validity period on `on`, else why not."""
        if self.status != "active":
            return self.status
        if on < self.valid_from:
            return "not_yet_valid"
        if self.valid_until is not None and on > self.valid_until:
            return "expired"
        return "valid"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    operator_id: str
    currency: str
    guarantee: Decimal
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Liability:
    """What one released parcel adds to its collecting operator's account."""

    id: str
    consignment_id: str
    account_id: str
    registration_number: str | None
    period: str  # YYYY-MM of the release
    currency: str
    amount: Decimal
    released_at: datetime


@dataclass(frozen=True, slots=True)
class Line:
    """One item-level line of a consolidated declaration (negative for a refund)."""

    consignment_id: str
    transport_document: str
    registration_number: str | None
    item: int | None
    kind: str
    rate: str | None
    amount: Decimal
    refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class Total:
    kind: str
    rate: str | None
    amount: Decimal


@dataclass(slots=True)
class Declaration:
    """A period of one account: lines, totals per tax and rate, and where it stands."""

    id: str
    account_id: str
    period: str
    status: str  # declared | closed
    currency: str
    total: Decimal
    totals: list[Total]
    declared_at: datetime
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One line of an operator's own report of a period (what it says it collected)."""

    transport_document: str
    kind: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Difference:
    transport_document: str
    kind: str
    code: str  # missing_from_report | not_recorded_by_customs | amount_differs
    recorded: Decimal | None
    reported: Decimal | None

    @property
    def difference(self) -> Decimal:
        return (self.reported or Decimal(0)) - (self.recorded or Decimal(0))


@dataclass(frozen=True, slots=True)
class ReportUpload:
    id: str
    period_id: str
    format: str
    lines: int
    reported_total: Decimal
    differences: list[Difference]
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class AccountPayment:
    id: str
    period_id: str
    account_id: str
    amount: Decimal
    currency: str
    reference: str
    recorded_by: str
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class QuotaEntry:
    person: str
    jurisdiction: str
    year: int
    consignment_id: str
    source: str  # "release" or "return:<id>"
    amount: Decimal  # negative when a return restores it
    currency: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Released:
    """A released parcel as accounts need it (from the consignment and its assessment)."""

    consignment_id: str
    transport_document: str
    owner_id: str
    released_at: datetime
    collection_model: str
    payable_by: str
    registration_number: str | None
    currency: str
    total: Decimal
    jurisdiction: str
    customs_value: Decimal
    person: str | None
    cbec: bool
