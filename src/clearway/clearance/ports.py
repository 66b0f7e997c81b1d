"""What the clearance workflows need from storage, as plain data and one protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from clearway.clearance.joining import HeldLeg
from clearway.clearance.pending import PendingDecision
from clearway.domain.consignment import Consignment
from clearway.kernel.errors import Conflict
from clearway.matching.merge import Leg


@dataclass(frozen=True, slots=True)
class Filer:
    """The authenticated operator sending filings."""

    operator_id: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class StoredFiling:
    consignment_id: str
    version: int
    body_hash: str


@dataclass(frozen=True, slots=True)
class ConsignmentHead:
    """Enough of a stored consignment to classify a new filing about it."""

    id: str
    status: str
    version: int
    owner_id: str
    data_set: str
    transport_document: str = ""  # the key: a real transport document or `order:`/`payment:`


@dataclass(frozen=True, slots=True)
class NewFiling:
    id: str
    consignment_id: str
    operator_id: str
    role: str
    filer_reference: str
    version: int
    body_hash: str
    body: str
    format: str
    warnings: str | None
    received_at: datetime
    kind: str = "declaration"


@dataclass(frozen=True, slots=True)
class Notice:
    operator_id: str
    consignment_id: str
    kind: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Hold:
    id: str
    consignment_id: str
    authority: str
    reason: str
    placed_by: str
    placed_at: Any
    lifted_by: str | None = None
    lifted_at: Any = None
    lift_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.lifted_at is None


@dataclass
class ChangeSet:
    """Everything one unit of work writes, in one transaction."""

    created: list[Consignment] = field(default_factory=list)
    updated: list[tuple[Consignment, str]] = field(default_factory=list)  # (new state, old status)
    filings: list[NewFiling] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    lifted: list[Hold] = field(default_factory=list)
    inspections: list[dict[str, Any]] = field(default_factory=list)
    # decisions owed to workers (queued runtime): written to the outbox in the same transaction
    queued: list[PendingDecision] = field(default_factory=list)
    unmatched: list[HeldLeg] = field(default_factory=list)  # legs not allowed to join

    def __bool__(self) -> bool:
        return bool(
            self.created
            or self.updated
            or self.filings
            or self.notices
            or self.holds
            or self.queued
            or self.unmatched
        )


class AccountGate(Protocol):
    """Accounts' say at the border, one call per batch (implemented in `clearway.accounts`)."""

    def holds_for(self, parcels: Sequence[Consignment]) -> dict[str, str]:
        """Why a parcel about to be presented is stopped by its collecting account, if it is
        (e.g. the account's guarantee would be exceeded)."""
        ...

    def released(self, parcels: Sequence[Consignment]) -> None:
        """Parcels just released: their liabilities and quota usage accrue."""
        ...


class SingleWindow(Protocol):
    """Other agencies' say at the border (rules in `agency_routing.yaml`, read at the legal
    date; implemented in `clearway.storage.single_window`)."""

    def awaited(self, parcels: Sequence[Consignment]) -> dict[str, dict[str, str]]:
        """Per parcel about to be presented: agency -> why its clearance is awaited. Only
        agencies routed to the parcel whose policy holds parcels at arrival, and which have not
        acted on it yet (no hold placed, no clearance given)."""
        ...

    def lapsed(self, now: datetime) -> list[tuple[str, str, str]]:
        """(consignment, agency, why) for arrival holds left unanswered past the agency's
        configured time-out."""
        ...


class StaleWrite(Conflict):
    """Someone else changed or inserted the same rows first; the unit of work should retry.
    Should retries run out, it reaches the filer as a 409 to send again."""

    problem_type = "concurrent-update"


class Store(Protocol):
    def filings_by_reference(
        self, operator_id: str, references: Sequence[str]
    ) -> dict[str, StoredFiling]:
        """Latest stored filing per filer reference of this operator."""
        ...

    def heads_by_transport_document(
        self, documents: Sequence[str]
    ) -> dict[str, ConsignmentHead]: ...

    def heads_by_keys(self, keys: Sequence[str]) -> dict[str, ConsignmentHead]:
        """Consignments by key: a transport document, `order:<id>` or `payment:<id>`."""
        ...

    def legs_of(self, consignment_ids: Sequence[str]) -> dict[str, list[Leg]]:
        """The latest version of every filing merged into each consignment."""
        ...

    def load(self, consignment_id: str) -> Consignment | None: ...

    def load_many(self, ids: Sequence[str]) -> dict[str, Consignment]: ...

    def open_holds(self, consignment_ids: Sequence[str]) -> dict[str, list[Hold]]: ...

    def operators_of(self, consignment_ids: Sequence[str]) -> dict[str, set[str]]:
        """Operators that filed about each consignment (they receive its notices)."""
        ...

    def commit(self, changes: ChangeSet) -> None:
        """Write atomically; raise StaleWrite if a concurrent writer got there first."""
        ...
