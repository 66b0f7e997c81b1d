"""Assessments: duty, taxes and fees per item and in total, with the trace that explains them."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

PayableBy = Literal["none", "vendor", "intermediary", "consumer"]
# The flag an assessor sets when it could not compute what is owed; an officer must.
MANUAL_ASSESSMENT = "manual_assessment_required"


class TraceEntry(msgspec.Struct, omit_defaults=True):
    """One value read or computed on the way to an amount (parameter, rate, FX rate…)."""

    name: str
    value: str
    at: str | None = None  # the legal date the value was read at
    reference: str | None = None  # the legal source
    item: int | None = None  # index of the item the entry is about


class Charge(msgspec.Struct, omit_defaults=True):
    """One tax or duty on one item (or on the consignment when item is None)."""

    kind: str  # duty, vat, consumption_tax, excise, fee
    amount: Decimal
    rate: str | None = None  # "19%", "EUR 3 per subheading"…
    base: Decimal | None = None
    item: int | None = None


class Assessment(msgspec.Struct, omit_defaults=True):
    """What is owed on a consignment, in the destination's currency."""

    currency: str
    jurisdiction: str
    legal_date: str
    irg_category: int  # WCO Immediate Release category 1..4
    collection_model: str
    payable_by: PayableBy
    customs_value: Decimal
    intrinsic_value: Decimal
    charges: list[Charge] = []
    total: Decimal = Decimal(0)
    flags: list[str] = []  # e.g. "registration_number_invalid", "above_duty_de_minimis"
    trace: list[TraceEntry] = []

    def total_of(self, kind: str) -> Decimal:
        return sum((c.amount for c in self.charges if c.kind == kind), Decimal(0))

    @property
    def due_at_border(self) -> Decimal:
        """What must be paid before release: only consumer collection waits for payment."""
        return self.total if self.payable_by == "consumer" else Decimal(0)
