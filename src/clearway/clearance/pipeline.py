"""The hot path: ingest → validate → assess → score → decide → persist, on batches.

One filing is a batch of one. Filings are classified against what is stored (new, duplicate,
amendment, another party's filing about a known parcel, conflict), the new and amended
consignments are assessed and decided together, and everything is written in one transaction.
A concurrent writer that stored the same filing first makes the batch retry, so a filing is never
stored twice and never lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from clearway.clearance.ports import (
    ChangeSet,
    ConsignmentHead,
    Filer,
    NewFiling,
    Notice,
    StaleWrite,
    Store,
    StoredFiling,
)
from clearway.domain.consignment import Consignment
from clearway.domain.decision import Decision
from clearway.domain.events import Event
from clearway.domain.filing import FILING_ROLES, FilingDocument, encode
from clearway.domain.lifecycle import PRE_ARRIVAL
from clearway.domain.ports import AssessmentRequest, Assessor, RiskInput, Selector
from clearway.domain.validation import check_filing
from clearway.kernel.clock import Clock
from clearway.kernel.errors import Forbidden, Problem
from clearway.kernel.ids import new_id

Outcome = Literal["accepted", "duplicate", "amended", "attached", "rejected", "conflict"]
MAX_RETRIES = 5


@dataclass(slots=True)
class Submission:
    """One filing as received: a decoded document, or the problems that kept it from decoding."""

    document: FilingDocument | None
    problems: list[Problem] = field(default_factory=list)
    format: str = "json"
    role: str | None = None  # the role a message format implies; defaults to the filer's


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
class _Work:
    """A filing that passed validation, on its way through the batch."""

    index: int
    doc: FilingDocument
    body: str
    body_hash: str
    warnings: list[Problem]
    format: str
    role: str
    consignment: Consignment | None = None
    old_status: str | None = None
    version: int = 1
    outcome: Outcome = "accepted"


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Pipeline:
    """Wires the steps; the adapters (store, assessor, selector, clock) are passed in."""

    def __init__(self, store: Store, assessor: Assessor, selector: Selector, clock: Clock) -> None:
        self.store = store
        self.assessor = assessor
        self.selector = selector
        self.clock = clock
        self._served = assessor.jurisdictions()

    def process(self, filer: Filer, batch: Sequence[Submission]) -> list[FilingResult]:
        """Process a batch; returns one result per submission, in order."""
        if filer.role not in FILING_ROLES and filer.role != "admin":
            raise Forbidden(f"role {filer.role!r} cannot file; filing roles: {FILING_ROLES}")
        for attempt in range(MAX_RETRIES):
            try:
                return self._process_once(filer, batch)
            except StaleWrite:
                if attempt == MAX_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ steps
    def _process_once(self, filer: Filer, batch: Sequence[Submission]) -> list[FilingResult]:
        now = self.clock.now()
        today = now.date()
        results: list[FilingResult | None] = [None] * len(batch)
        valid: list[_Work] = []
        for i, sub in enumerate(batch):
            if sub.document is None:
                results[i] = FilingResult(i, "rejected", problems=sub.problems)
                continue
            problems = sub.problems + check_filing(sub.document, served=self._served, today=today)
            errors = [p for p in problems if p.severity == "error"]
            ref = sub.document.filer_reference
            if errors:
                results[i] = FilingResult(i, "rejected", ref, problems=problems)
                continue
            body = encode(sub.document)
            valid.append(
                _Work(
                    i,
                    sub.document,
                    body.decode(),
                    body_hash(body),
                    problems,
                    sub.format,
                    sub.role or filer.role,
                )
            )

        stored = self.store.filings_by_reference(
            filer.operator_id, [w.doc.filer_reference for w in valid]
        )
        heads = self.store.heads_by_transport_document([w.doc.transport_document for w in valid])
        changes = ChangeSet()
        to_decide = self._classify(filer, valid, stored, heads, results, now, changes)
        self._assess_and_decide(filer, to_decide, now, changes)
        for w in to_decide:
            assert w.consignment is not None
            results[w.index] = _result(w)
        if changes:
            self.store.commit(changes)
        return [r for r in results if r is not None]

    def _classify(
        self,
        filer: Filer,
        valid: list[_Work],
        stored: dict[str, StoredFiling],
        heads: dict[str, ConsignmentHead],
        results: list[FilingResult | None],
        now: datetime,
        changes: ChangeSet,
    ) -> list[_Work]:
        """Sort each valid filing into new / duplicate / amendment / attached / conflict."""
        to_decide: list[_Work] = []
        in_batch: dict[str, _Work] = {}  # filer_reference -> work, for repeats inside one batch
        new_by_td: dict[str, _Work] = {}
        load_ids = {s.consignment_id for s in stored.values()} | {h.id for h in heads.values()}
        loaded = self.store.load_many(sorted(load_ids)) if load_ids else {}
        for w in valid:
            ref = w.doc.filer_reference
            td = w.doc.transport_document
            earlier = in_batch.get(ref)
            prior = stored.get(ref)
            if earlier is not None:
                prior = StoredFiling(
                    earlier.consignment.id if earlier.consignment else "",
                    earlier.version,
                    earlier.body_hash,
                )
            if prior is not None and prior.body_hash == w.body_hash:
                c = earlier.consignment if earlier else loaded.get(prior.consignment_id)
                results[w.index] = FilingResult(
                    w.index,
                    "duplicate",
                    ref,
                    prior.consignment_id,
                    c.status if c else None,
                    prior.version,
                    c.decision if c else None,
                )
                continue
            if prior is not None:
                c = earlier.consignment if earlier else loaded.get(prior.consignment_id)
                if c is None or c.status not in PRE_ARRIVAL:
                    results[w.index] = FilingResult(
                        w.index,
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
                                f"the consignment is {c.status if c else 'unknown'}; amendments "
                                "are accepted only before arrival — ask an officer",
                            )
                        ],
                    )
                    continue
                w.version = prior.version + 1
                w.outcome = "amended"
                self._amend(w, c, filer, now)
                if earlier is None and all(u is not c for u, _ in changes.updated):
                    changes.updated.append((c, w.old_status or c.status))
                to_decide.append(w)
            else:
                head = heads.get(td)
                same_batch = new_by_td.get(td)
                existing = (
                    loaded.get(head.id)
                    if head
                    else (same_batch.consignment if same_batch else None)
                )
                if existing is not None:
                    w.consignment = existing
                    w.outcome = "attached"
                    upgrade = (
                        existing.status in ("filed", "referred")
                        and w.doc.data_set != "pre_loading"
                        and existing.document.data_set == "pre_loading"
                    )
                    if upgrade:
                        # A complete data set for a parcel known only from pre-loading data:
                        # it now gets assessed and decided on the complete data.
                        self._amend(w, existing, filer, now)
                        if head is not None:
                            changes.updated.append((existing, w.old_status or existing.status))
                        to_decide.append(w)
                    else:
                        results[w.index] = FilingResult(
                            w.index,
                            "attached",
                            ref,
                            existing.id,
                            existing.status,
                            1,
                            existing.decision,
                        )
                else:
                    w.consignment = Consignment(
                        new_id("cns"), td, w.doc, filer.operator_id, created_at=now, updated_at=now
                    )
                    w.consignment.events.append(_filed_event(w.consignment, filer, now))
                    changes.created.append(w.consignment)
                    new_by_td[td] = w
                    to_decide.append(w)
            in_batch[ref] = w
            assert w.consignment is not None
            changes.filings.append(
                NewFiling(
                    new_id("fil"),
                    w.consignment.id,
                    filer.operator_id,
                    w.role,
                    ref,
                    w.version,
                    w.body_hash,
                    w.body,
                    w.format,
                    encode(w.warnings).decode() if w.warnings else None,
                    now,
                )
            )
        return to_decide

    def _amend(self, w: _Work, c: Consignment, filer: Filer, now: datetime) -> None:
        w.consignment = c
        w.old_status = w.old_status or c.status
        if c.status != "filed":
            c.apply("amend", at=now, actor=_actor(filer), data={"version": w.version})
        c.document = w.doc
        c.version += 1
        c.decision = None
        c.assessment = None

    def _assess_and_decide(
        self, filer: Filer, work: list[_Work], now: datetime, changes: ChangeSet
    ) -> None:
        if not work:
            return
        # A consignment may appear twice (amended twice in one batch): decide its last state.
        last: dict[str, _Work] = {}
        for w in work:
            assert w.consignment is not None
            last[w.consignment.id] = w
        todo = list(last.values())
        full = [w for w in todo if w.doc.data_set != "pre_loading"]
        legal = {id(w): w.doc.legal_date or now.date() for w in todo}
        assessments = self.assessor.assess_batch(
            [
                AssessmentRequest(w.consignment.id, w.doc, legal[id(w)])
                for w in full
                if w.consignment
            ]
        )
        by_work = {id(w): a for w, a in zip(full, assessments, strict=True)}
        decisions = self.selector.decide_batch(
            [
                RiskInput(
                    w.consignment.id,
                    w.doc,
                    legal[id(w)],
                    filer.name,
                    w.role,
                    by_work.get(id(w)),
                    [p for p in w.warnings if p.severity == "warning"],
                )
                for w in todo
                if w.consignment
            ]
        )
        actor = "system:pipeline"
        for w, decision in zip(todo, decisions, strict=True):
            c = w.consignment
            assert c is not None
            c.decision = decision
            if w.doc.data_set == "pre_loading":
                c.apply("refer", at=now, actor=actor, data={"referral": decision.referral})
                kind = "referral"
            else:
                c.assessment = by_work[id(w)]
                c.apply("assess", at=now, actor=actor, data=_assessment_summary(c))
                c.apply("decide", at=now, actor=actor, data={"lane": decision.lane})
                if c.assessment.due_at_border > 0 and c.payment_status == "none":
                    c.apply_payment(
                        "charge",
                        at=now,
                        actor=actor,
                        data={
                            "amount": str(c.assessment.due_at_border),
                            "currency": c.assessment.currency,
                        },
                    )
                kind = "decision"
            changes.notices.append(Notice(filer.operator_id, c.id, kind, notice_body(c, kind)))


def _filed_event(c: Consignment, filer: Filer, now: datetime) -> Event:
    return Event(c.id, "file", now, _actor(filer), None, "filed", {"version": 1})


def _actor(filer: Filer) -> str:
    return f"{filer.role}:{filer.name}"


def _assessment_summary(c: Consignment) -> dict[str, object]:
    a = c.assessment
    assert a is not None
    return {
        "total": str(a.total),
        "currency": a.currency,
        "irg_category": a.irg_category,
        "payable_by": a.payable_by,
    }


def notice_body(c: Consignment, kind: str) -> dict[str, object]:
    """What a filer is told about its parcel (the notices feed)."""
    d = c.decision
    body: dict[str, object] = {
        "consignment_id": c.id,
        "transport_document": c.transport_document,
        "filer_reference": c.document.filer_reference,
        "kind": kind,
        "status": c.status,
        "payment_status": c.payment_status,
    }
    if d is not None:
        body["lane"] = d.lane
        body["referral"] = d.referral
        # Filers see what to do, not the targeting internals.
        body["requests"] = [r.text for r in d.reasons if r.source == "validation"]
    if c.assessment is not None:
        body["amount_due"] = str(c.assessment.due_at_border)
        body["currency"] = c.assessment.currency
    return body


def _result(w: _Work) -> FilingResult:
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
        [p for p in w.warnings if p.severity == "warning"],
    )
