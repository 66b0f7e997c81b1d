"""The seams of the pipeline: the assessment step (revenue) and the decision step (risk).

The pipeline calls these on batches; one filing is a batch of one. Implementations live in
`clearway.revenue` and `clearway.risk`; `clearway.wiring` picks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

import msgspec

from clearway.domain.assessment import Assessment
from clearway.domain.decision import Decision
from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import Problem


class AssessmentRequest(msgspec.Struct):
    consignment_id: str
    document: FilingDocument
    legal_date: date
    # operators a registration number on the parcel may belong to (its filer, declarants and
    # named platform); None: not known, the number is checked against the registry alone
    claimants: frozenset[str] | None = None


class Assessor(Protocol):
    def jurisdictions(self) -> frozenset[str]:
        """Destination countries this assessor has legislation for."""
        ...

    def assess_batch(self, batch: Sequence[AssessmentRequest]) -> list[Assessment]:
        """One assessment per request, in order."""
        ...


class RiskInput(msgspec.Struct):
    consignment_id: str
    document: FilingDocument
    legal_date: date
    filer: str  # operator name
    filer_role: str
    assessment: Assessment | None = None
    findings: list[Problem] = []  # validation warnings (vague description, mass, totals…)
    claimants: frozenset[str] | None = None  # as in AssessmentRequest (AEO only for holders)


class Selector(Protocol):
    def decide_batch(self, batch: Sequence[RiskInput]) -> list[Decision]:
        """One decision per input, in order: a referral for pre_loading, a lane otherwise."""
        ...
