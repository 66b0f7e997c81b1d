"""What a batch carries: submissions in, a result per submission out, and the work between.

The pipeline (`clearance/pipeline.py`) sorts and decides; this module holds the shapes it passes
along and the small pure helpers that build them: consignment keys, held legs, owed decisions and
results.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from clearway.clearance.joining import HeldLeg
from clearway.clearance.pending import PendingDecision
from clearway.clearance.ports import ChangeSet, Filer, StoredFiling
from clearway.domain.consignment import Consignment
from clearway.domain.decision import Decision
from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import Problem
from clearway.kernel.ids import new_id
from clearway.matching.merge import Leg, ready
from clearway.matching.rules import rules_for

Outcome = Literal[
    "accepted",
    "duplicate",
    "amended",
    "attached",
    "invalidated",
    "rejected",
    "conflict",
    "unmatched",  # another operator's parcel it may not join: held for an officer
]
# What a worker did with a pending decision: made it, found it superseded by a later version or
# already made (a redelivery), or found no such consignment.
PendingOutcome = Literal["decided", "superseded", "unknown"]


@dataclass(slots=True)
class Submission:
    """One filing as received: a decoded document, or the problems that kept it from decoding.

    `kind` says which leg of a consignment it is (declaration, order, payment, waybill,
    inventory); `action` "cancel" withdraws the filing named by `reference`.
    """

    document: FilingDocument | None
    problems: list[Problem] = field(default_factory=list)
    format: str = "json"
    role: str | None = None  # the role a message format implies; defaults to the filer's
    kind: str = "declaration"
    action: str = "new"
    reference: str | None = None  # filer reference, for withdrawals without a document


@dataclass(slots=True)
class FilingResult:
    index: int
    outcome: Outcome
    filer_reference: str | None = None
    consignment_id: str | None = None
    status: str | None = None
    version: int | None = None
    decision: Decision | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.outcome not in ("rejected", "conflict")


@dataclass(slots=True)
class Work:
    """A filing that passed validation, on its way through the batch."""

    index: int
    doc: FilingDocument
    body: str
    body_hash: str
    warnings: list[Problem]
    format: str
    role: str
    kind: str
    consignment: Consignment | None = None
    version: int = 1
    outcome: Outcome = "accepted"
    match: list[Problem] = field(default_factory=list)
    joined: str | None = None  # why another party's leg may join (recorded in the timeline)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def consignment_key(doc: FilingDocument) -> str:
    """What identifies the parcel: the transport document, else the order or payment id."""
    if doc.transport_document:
        return doc.transport_document
    if doc.order is not None and doc.order.id:
        return f"order:{doc.order.id}"
    if doc.payment is not None and doc.payment.id:
        return f"payment:{doc.payment.id}"
    return f"ref:{doc.filer_reference}"


def lookup_keys(doc: FilingDocument) -> list[str]:
    keys = [doc.transport_document] if doc.transport_document else []
    if doc.order is not None and doc.order.id:
        keys.append(f"order:{doc.order.id}")
    if doc.payment is not None and doc.payment.id:
        keys.append(f"payment:{doc.payment.id}")
    return keys


DECLARING_KINDS = frozenset({"declaration", "inventory"})


@dataclass(slots=True)
class BatchState:
    """What one batch works on: each consignment loaded once, its legs, what it changes."""

    loaded: dict[str, Consignment]
    legs: dict[str, list[Leg]]
    created: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)
    # a filing sent twice within the batch: (its index, the work of its first copy)
    repeats: list[tuple[int, Work]] = field(default_factory=list)

    def touch(self, c: Consignment, changes: ChangeSet) -> None:
        """Record a stored consignment as updated, once, with the status it was loaded in."""
        if c.id not in self.touched and c.id not in self.created:
            self.touched.add(c.id)
            changes.updated.append((c, c.status))


HELD_PROBLEM = Problem(
    "/",
    "held_unmatched",
    "held for review by customs: the record could not be matched to a parcel you are a party "
    "to; the parcel's declarant names its carrier, post and payment provider in its filing",
    "warning",
)


def held_leg(w: Work, c: Consignment, filer: Filer, why: str, now: datetime) -> HeldLeg:
    return HeldLeg(
        new_id("unm"),
        c.id,
        filer.operator_id,
        w.role,
        w.kind,
        w.doc.filer_reference,
        w.body_hash,
        w.body,
        w.format,
        why,
        now,
    )


def other_parcel(doc: FilingDocument, key: str) -> bool:
    """Does a filing with its own transport document point at a different, known parcel?"""
    synthetic = key.startswith(("order:", "payment:", "ref:"))
    return bool(doc.transport_document) and not synthetic and key != doc.transport_document


def pending_decisions(filer: Filer, work: list[Work], now: datetime) -> list[PendingDecision]:
    """One decision owed per consignment changed by the batch, at its last version."""
    last: dict[str, Work] = {}
    for w in work:
        assert w.consignment is not None
        last[w.consignment.id] = w
    return [
        PendingDecision(
            c.id,
            c.version,
            c.owner,
            filer.operator_id,
            filer.name,
            filer.role,
            w.role,
            now,
            [p for p in w.warnings if p.severity == "warning"],
            list(w.match),
        )
        for w in last.values()
        # legs waiting for their partners (a lone payment or waybill) owe no decision yet
        if (c := w.consignment) is not None and ready_to_decide(c, now)
    ]


def ready_to_decide(c: Consignment, now: datetime) -> bool:
    doc = c.document
    return ready(c.legs, doc, rules_for(doc.destination_country, doc.legal_date or now.date()))


def conflict_status(
    index: int, ref: str, prior: StoredFiling, c: Consignment | None
) -> FilingResult:
    status = c.status if c else "unknown"
    return FilingResult(
        index,
        "conflict",
        ref,
        prior.consignment_id,
        c.status if c else None,
        prior.version,
        c.decision if c else None,
        [
            Problem(
                "/",
                "amendment_refused",
                f"the consignment is {status}; changes are accepted only before arrival — "
                "ask an officer",
            )
        ],
    )


def actor_of(filer: Filer) -> str:
    return f"{filer.role}:{filer.name}"


def result_of(w: Work) -> FilingResult:
    c = w.consignment
    assert c is not None
    return FilingResult(
        w.index,
        w.outcome,
        w.doc.filer_reference,
        c.id,
        c.status,
        w.version,
        c.decision,
        [p for p in w.warnings + w.match if p.severity == "warning"],
    )


def repeat_of(index: int, first: Work) -> FilingResult:
    """A filing repeated within its batch is a duplicate of its first copy, answered with the
    consignment as the batch left it (decided, or queued for its decision)."""
    c = first.consignment
    assert c is not None
    return FilingResult(
        index, "duplicate", first.doc.filer_reference, c.id, c.status, first.version, c.decision
    )
