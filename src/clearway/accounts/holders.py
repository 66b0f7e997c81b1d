"""Registration numbers belong to their holders.

A number quoted on a parcel counts only for its holder: the filer, the parcel's declarants, or
the platform the filing names. Quoted by anyone else it is treated as unregistered — vendor
collection falls back to consumer collection with the flag `registration_number_not_held` —
and it never brings AEO treatment. A number not in the registry is `unverified`: it is never
trusted for AEO treatment.

The revenue calculator asks its registration hook one number at a time, without knowing who
filed; `HolderCheckedAssessor` tells the hook whose parcel it is assessing (per request, in the
calling thread).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date

from clearway.accounts.registry import Registry
from clearway.domain.assessment import Assessment
from clearway.domain.ports import AssessmentRequest, Assessor

NOT_HELD = "not_held"


class HolderCheck:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._local = threading.local()

    def status(self, number: str, on: date) -> str | None:
        """The revenue hook: the registry's answer, or `not_held` when the parcel being
        assessed is not the holder's."""
        found = self.registry.status(number, on)
        claimants: frozenset[str] | None = getattr(self._local, "claimants", None)
        if (
            found == "valid"
            and claimants is not None
            and self.registry.holder(number) not in claimants
        ):
            return NOT_HELD
        return found

    def assessing(self, claimants: frozenset[str] | None) -> None:
        self._local.claimants = claimants


class HolderCheckedAssessor:
    """The pipeline's assessor: each request assessed knowing who may hold its number."""

    def __init__(self, inner: Assessor, check: HolderCheck) -> None:
        self.inner = inner
        self.check = check

    def jurisdictions(self) -> frozenset[str]:
        return self.inner.jurisdictions()

    def assess_batch(self, batch: Sequence[AssessmentRequest]) -> list[Assessment]:
        out: list[Assessment] = []
        for request in batch:
            self.check.assessing(request.claimants)
            try:
                out.extend(self.inner.assess_batch([request]))
            finally:
                self.check.assessing(None)
        return out
