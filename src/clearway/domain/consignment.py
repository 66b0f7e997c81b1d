"""The consignment aggregate: one parcel, its merged filings, decision, assessment and events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clearway.domain.assessment import Assessment
from clearway.domain.decision import Decision
from clearway.domain.events import Event
from clearway.domain.filing import FilingDocument
from clearway.domain.lifecycle import FINAL_STATUSES, next_payment_status, next_status


@dataclass
class Consignment:
    id: str
    transport_document: str
    document: FilingDocument
    owner: str  # the operator whose filing created it
    status: str = "filed"
    payment_status: str = "none"
    version: int = 1  # of the filed document: amendments and merged legs bump it
    revision: int = 0  # of the stored record: every write bumps it (optimistic locking)
    decision: Decision | None = None
    assessment: Assessment | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    arrived_at: datetime | None = None
    closed_at: datetime | None = None
    legs: list[str] = field(default_factory=list)  # kinds of filings merged into it
    events: list[Event] = field(default_factory=list)  # new, not yet persisted

    def apply(
        self, action: str, *, at: datetime, actor: str, data: dict[str, Any] | None = None
    ) -> Event:
        """Move through the lifecycle; records and returns the event."""
        before = self.status
        self.status = next_status(before, action)
        if action == "arrive":
            self.arrived_at = at
        if self.status in FINAL_STATUSES:
            self.closed_at = at
        return self._record(action, at, actor, before, self.status, data)

    def apply_payment(
        self, action: str, *, at: datetime, actor: str, data: dict[str, Any] | None = None
    ) -> Event:
        before = self.payment_status
        self.payment_status = next_payment_status(before, action)
        return self._record(f"payment_{action}", at, actor, before, self.payment_status, data)

    def _record(
        self,
        kind: str,
        at: datetime,
        actor: str,
        before: str,
        after: str,
        data: dict[str, Any] | None,
    ) -> Event:
        event = Event(self.id, kind, at, actor, before, after, data or {})
        self.events.append(event)
        self.updated_at = at
        return event


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Where a parcel stands, as its events say: what `apply` and `apply_payment` left."""

    status: str
    payment_status: str
    arrived_at: datetime | None
    closed_at: datetime | None


def replay(events: Iterable[Event], start: Lifecycle) -> Lifecycle:
    """The lifecycle after `events` (in order), from `start`: the same rules as `apply` and
    `apply_payment`, read back from the recorded transitions instead of made again."""
    status, payment, arrived, closed = (
        start.status,
        start.payment_status,
        start.arrived_at,
        start.closed_at,
    )
    for e in events:
        if e.to_status is None:
            continue
        if e.kind.startswith("payment_"):
            payment = e.to_status
            continue
        status = e.to_status
        if e.kind == "arrive":
            arrived = e.at
        if status in FINAL_STATUSES:
            closed = e.at
    return Lifecycle(status, payment, arrived, closed)
