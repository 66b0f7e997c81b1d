"""The hot path: ingest → validate → merge → assess → score → decide → persist, on batches.

One filing is a batch of one. Each filing is classified against what is stored — new, duplicate,
amendment, another party's leg of a known parcel (merged), withdrawal, conflict — then the new and
changed consignments are assessed and decided together and everything is written in one
transaction. A concurrent writer that stored the same filing first makes the batch retry, so a
filing is never stored twice and never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from clearway.clearance import referrals
from clearway.clearance.batch import (
    DECLARING_KINDS,
    HELD_PROBLEM,
    BatchState,
    FilingResult,
    Outcome,
    PendingOutcome,
    Submission,
    Work,
    actor_of,
    body_hash,
    conflict_status,
    consignment_key,
    held_leg,
    lookup_keys,
    other_parcel,
    pending_decisions,
    ready_to_decide,
    repeat_of,
    result_of,
)
from clearway.clearance.joining import FIRST_DECLARATION, PARTY, Joiner, JoinPolicy, role_problems
from clearway.clearance.notices import assessment_summary, notice_body
from clearway.clearance.pending import PendingDecision
from clearway.clearance.ports import (
    ChangeSet,
    ConsignmentHead,
    Filer,
    NewFiling,
    Notice,
    Store,
    StoredFiling,
)
from clearway.clearance.reasons import with_match, with_revenue
from clearway.clearance.retry import with_retries
from clearway.domain.consignment import Consignment
from clearway.domain.decision import Decision
from clearway.domain.events import Event
from clearway.domain.filing import FILING_ROLES, FilingDocument, encode
from clearway.domain.lifecycle import PRE_ARRIVAL
from clearway.domain.ports import AssessmentRequest, Assessor, RiskInput, Selector
from clearway.domain.validation import check_filing, errors
from clearway.ingestion.dms.eligibility import problems as h7_eligibility
from clearway.kernel.clock import Clock
from clearway.kernel.errors import Forbidden, Problem
from clearway.kernel.ids import new_id
from clearway.matching.merge import Leg, merge
from clearway.matching.rules import rules_for

# The batch's shapes live in `clearance/batch.py`; importers of the pipeline keep finding them here.
__all__ = [
    "Eligibility",
    "FilingResult",
    "Outcome",
    "PendingOutcome",
    "Pipeline",
    "Submission",
    "body_hash",
    "consignment_key",
    "notice_body",
]


# Why a filing's data set is not allowed for its parcel under the destination's law
Eligibility = Callable[[FilingDocument, date], list[Problem]]


class Pipeline:
    """Wires the steps; the adapters (store, assessor, selector, clock) are passed in."""

    def __init__(
        self,
        store: Store,
        assessor: Assessor,
        selector: Selector,
        clock: Clock,
        joins: JoinPolicy | None = None,
        *,
        defer: bool = False,
        eligibility: Eligibility | None = None,
    ) -> None:
        self.store = store
        self.assessor = assessor
        self.selector = selector
        self.clock = clock
        # queued runtime: store the filings and owe the decisions (outbox); workers make them
        # with `decide_pending`, through the same assess-and-decide step
        self.defer = defer
        self.joins = joins or JoinPolicy()  # who may join whose parcel (clearance/joining.py)
        self._served = assessor.jurisdictions()
        # the destination's law on who may file the reduced data set (revenue/eligibility.py)
        self.eligibility = eligibility

    def process(self, filer: Filer, batch: Sequence[Submission]) -> list[FilingResult]:
        """Process a batch; returns one result per submission, in order."""
        if filer.role not in FILING_ROLES and filer.role != "admin":
            raise Forbidden(f"role {filer.role!r} cannot file; filing roles: {FILING_ROLES}")
        return with_retries(lambda: self._process_once(filer, batch), "the filing")

    # ------------------------------------------------------------------ steps
    def _process_once(self, filer: Filer, batch: Sequence[Submission]) -> list[FilingResult]:
        now = self.clock.now()
        today = now.date()
        results: list[FilingResult | None] = [None] * len(batch)
        valid: list[Work] = []
        withdrawals: list[tuple[int, str]] = []
        for i, sub in enumerate(batch):
            if sub.action == "cancel" and sub.reference and not errors(sub.problems):
                withdrawals.append((i, sub.reference))
                continue
            if sub.document is None:
                results[i] = FilingResult(i, "rejected", sub.reference, problems=sub.problems)
                continue
            try:
                body: bytes | None = encode(sub.document)  # stored and hashed below
            except UnicodeEncodeError:  # a lone surrogate: validation names the field
                body = None
            problems = (
                sub.problems
                + role_problems(sub.kind, filer.role)
                + check_filing(
                    sub.document, served=self._served, today=today, kind=sub.kind, encoded=body
                )
                + h7_eligibility(sub.document, today)
            )
            if self.eligibility is not None and sub.kind == "declaration" and not errors(problems):
                problems += self.eligibility(sub.document, sub.document.legal_date or today)
            ref = sub.document.filer_reference
            if errors(problems):
                results[i] = FilingResult(i, "rejected", ref, problems=problems)
                continue
            body = body if body is not None else encode(sub.document)
            valid.append(
                Work(
                    i,
                    sub.document,
                    body.decode(),
                    body_hash(body),
                    problems,
                    sub.format,
                    filer.role,  # the key's role, never the one a message format implies
                    sub.kind,
                )
            )

        refs = [w.doc.filer_reference for w in valid] + [ref for _, ref in withdrawals]
        stored = self.store.filings_by_reference(filer.operator_id, refs)
        heads = self.store.heads_by_keys([k for w in valid for k in lookup_keys(w.doc)])
        ids = sorted({s.consignment_id for s in stored.values()} | {h.id for h in heads.values()})
        # One copy of each consignment per batch: every step changes the same object.
        state = BatchState(
            self.store.load_many(ids) if ids else {}, self.store.legs_of(ids) if ids else {}
        )
        changes = ChangeSet()
        to_decide = self._classify(filer, valid, stored, heads, state, results, now, changes)
        self._withdraw(filer, withdrawals, stored, state, results, now, changes)
        # a parcel withdrawn in this very batch is not decided any more
        withdrawn = [
            w for w in to_decide if w.consignment and w.consignment.status == "invalidated"
        ]
        to_decide = [w for w in to_decide if w not in withdrawn]
        if self.defer:
            changes.queued.extend(pending_decisions(filer, to_decide, now))
        else:
            self._assess_and_decide(filer, to_decide, now, changes)
        for w in to_decide + withdrawn:
            results[w.index] = result_of(w)
        for i, w in state.repeats:
            results[i] = repeat_of(i, w)
        if changes:
            self.store.commit(changes)
        return [r for r in results if r is not None]

    def decide_pending(self, pending: Sequence[PendingDecision]) -> list[PendingOutcome]:
        """The worker's half of the queued runtime; an outcome per pending decision, in order.

        Each consignment is assessed and decided at the version the message names, in one
        transaction. A version that is no longer the stored one, or is already decided, changes
        nothing: redelivery after a crash has no second effect, and a later version's message
        decides the later state (decisions never go back in version order).
        """
        return with_retries(lambda: self._decide_pending_once(pending), "the decision")

    def _decide_pending_once(self, pending: Sequence[PendingDecision]) -> list[PendingOutcome]:
        now = self.clock.now()
        loaded = self.store.load_many(sorted({p.consignment_id for p in pending}))
        outcomes: list[PendingOutcome] = []
        groups: dict[Filer, list[Work]] = {}
        changes = ChangeSet()
        taken: set[str] = set()
        for i, p in enumerate(pending):
            c = loaded.get(p.consignment_id)
            if c is None:
                outcomes.append("unknown")
                continue
            if c.status != "filed" or c.version != p.version or c.id in taken:
                outcomes.append("superseded")
                continue
            taken.add(c.id)
            changes.updated.append((c, c.status))
            work = Work(i, c.document, "", "", p.warnings, "", p.role, "", c, p.version)
            work.match = p.match
            groups.setdefault(Filer(p.operator_id, p.filer_name, p.filer_role), []).append(work)
            outcomes.append("decided")
        for filer, works in groups.items():
            self._assess_and_decide(filer, works, now, changes)
        if changes:
            self.store.commit(changes)
        return outcomes

    def _classify(
        self,
        filer: Filer,
        valid: list[Work],
        stored: dict[str, StoredFiling],
        heads: dict[str, ConsignmentHead],
        batch: BatchState,
        results: list[FilingResult | None],
        now: datetime,
        changes: ChangeSet,
    ) -> list[Work]:
        """Sort each valid filing into new / duplicate / amendment / merged leg / conflict."""
        to_decide: list[Work] = []
        in_batch: dict[str, Work] = {}  # filer_reference -> work, for repeats inside one batch
        new_by_key: dict[str, Consignment] = {}
        loaded, legs = batch.loaded, batch.legs
        for w in valid:
            ref = w.doc.filer_reference
            earlier = in_batch.get(ref)
            prior = stored.get(ref)
            if earlier is not None and earlier.consignment is not None:
                prior = StoredFiling(earlier.consignment.id, earlier.version, earlier.body_hash)
            c: Consignment | None = None
            if prior is not None:
                c = earlier.consignment if earlier else loaded.get(prior.consignment_id)
                if prior.body_hash == w.body_hash and earlier is not None:
                    batch.repeats.append((w.index, earlier))  # answered once the batch is decided
                    continue
                if prior.body_hash == w.body_hash:
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
                if c is None or c.status not in PRE_ARRIVAL:
                    results[w.index] = conflict_status(w.index, ref, prior, c)
                    continue
                w.version = prior.version + 1
                w.outcome = "amended"
            else:
                for key in lookup_keys(w.doc):
                    head = heads.get(key)
                    c = loaded.get(head.id) if head else new_by_key.get(key)
                    if c is not None and other_parcel(w.doc, c.transport_document):
                        c = None  # same order, another parcel: one order can ship in several
                    if c is not None:
                        break
                if c is not None:
                    verdict = self.joins.verdict(
                        kind=w.kind,
                        doc=w.doc,
                        joiner=Joiner(filer.operator_id, filer.name, filer.role),
                        status=c.status,
                        owner=c.owner,
                        on_file=c.document,
                        legs=legs.get(c.id, []),
                        rules=rules_for(
                            c.document.destination_country, c.document.legal_date or now.date()
                        ),
                    )
                    if verdict.outcome == "refused":
                        problems = [verdict.problem] if verdict.problem else []
                        results[w.index] = FilingResult(
                            w.index, "conflict", ref, None, None, None, None, problems
                        )
                        continue
                    if verdict.outcome == "unmatched":
                        changes.unmatched.append(held_leg(w, c, filer, verdict.basis, now))
                        results[w.index] = FilingResult(
                            w.index, "unmatched", ref, problems=[HELD_PROBLEM]
                        )
                        continue
                    w.outcome = "attached"
                    w.joined = None if verdict.basis == PARTY else verdict.basis
                    if verdict.basis == FIRST_DECLARATION:
                        c.owner = filer.operator_id  # the declarant takes the parcel over
            w.consignment = c
            if c is None:
                c = w.consignment = self._create(w, filer, now, changes)
                batch.created.add(c.id)
                for key in lookup_keys(w.doc):
                    new_by_key[key] = c
                legs[c.id] = [Leg(w.kind, w.role, w.doc, f"{filer.operator_id}/{ref}")]
                to_decide.append(w)
            else:
                mine = f"{filer.operator_id}/{ref}"
                others = [leg for leg in legs.get(c.id, []) if leg.reference != mine]
                legs[c.id] = [*others, Leg(w.kind, w.role, w.doc, mine)]
                if c.status in PRE_ARRIVAL:
                    batch.touch(c, changes)
                    if w.joined:
                        c.apply(
                            "join",
                            at=now,
                            actor=actor_of(filer),
                            data={"leg": w.kind, "reference": ref, "basis": w.joined},
                        )
                    self._remerge(w, c, legs[c.id], filer, now)
                    for key in lookup_keys(c.document):
                        new_by_key[key] = c
                    to_decide.append(w)
                else:
                    results[w.index] = FilingResult(
                        w.index,
                        "attached",
                        ref,
                        c.id,
                        c.status,
                        w.version,
                        c.decision,
                    )
            in_batch[ref] = w
            changes.filings.append(
                NewFiling(
                    new_id("fil"),
                    c.id,
                    filer.operator_id,
                    w.role,
                    ref,
                    w.version,
                    w.body_hash,
                    w.body,
                    w.format,
                    encode(w.warnings).decode() if w.warnings else None,
                    now,
                    w.kind,
                )
            )
        return to_decide

    def _create(self, w: Work, filer: Filer, now: datetime, changes: ChangeSet) -> Consignment:
        c = Consignment(
            new_id("cns"),
            consignment_key(w.doc),
            w.doc,
            filer.operator_id,
            created_at=now,
            updated_at=now,
            legs=[w.kind],
        )
        c.events.append(Event(c.id, "file", now, actor_of(filer), None, "filed", {"version": 1}))
        changes.created.append(c)
        rules = rules_for(w.doc.destination_country, w.doc.legal_date or now.date())
        if rules.required_legs:
            # Where a match is required, a lone leg is checked (and its missing legs named).
            leg = Leg(w.kind, w.role, w.doc, f"{filer.operator_id}/{w.doc.filer_reference}")
            w.match = merge([leg], rules).problems
        return c

    def _remerge(
        self, w: Work, c: Consignment, legs: list[Leg], filer: Filer, now: datetime
    ) -> None:
        """A new or changed leg: merge all legs again; the consignment is decided afresh.

        The timeline records every new version, also of a parcel still waiting for its decision
        (queued, or amended within the batch that filed it)."""
        c.apply(
            "amend",
            at=now,
            actor=actor_of(filer),
            data={"version": w.version, "leg": w.kind, "reference": w.doc.filer_reference},
        )
        rules = rules_for(w.doc.destination_country, w.doc.legal_date or now.date())
        # only the legs that stand against the declarants' filings are merged (a leg that came
        # first with a guessed key and is neither named nor agreeing changes nothing)
        result = merge(self.joins.standing(legs, c.owner, rules), rules)
        c.document = result.document
        c.transport_document = consignment_key(result.document)
        c.legs = result.legs
        c.version += 1
        # an open pre-loading referral survives the new leg (clearance/referrals.py); the rest
        # of the decision is made afresh
        c.decision = (
            Decision(referral=c.decision.referral, reasons=c.decision.reasons)
            if referrals.is_open(c.decision) and c.decision is not None
            else None
        )
        c.assessment = None
        w.match = result.problems

    def _withdraw(
        self,
        filer: Filer,
        withdrawals: list[tuple[int, str]],
        stored: dict[str, StoredFiling],
        batch: BatchState,
        results: list[FilingResult | None],
        now: datetime,
        changes: ChangeSet,
    ) -> None:
        for i, ref in withdrawals:
            prior = stored.get(ref)
            c = batch.loaded.get(prior.consignment_id) if prior else None
            if prior is None or c is None:
                results[i] = FilingResult(
                    i,
                    "rejected",
                    ref,
                    problems=[Problem("/", "unknown_reference", f"no filing {ref!r} to withdraw")],
                )
                continue
            if c.status == "invalidated":
                results[i] = FilingResult(i, "duplicate", ref, c.id, c.status, prior.version)
                continue
            if c.status not in PRE_ARRIVAL:
                results[i] = conflict_status(i, ref, prior, c)
                continue
            mine = [
                leg
                for leg in batch.legs.get(c.id, [])
                if leg.reference == f"{filer.operator_id}/{ref}"
            ]
            if not any(leg.kind in DECLARING_KINDS for leg in mine):
                results[i] = FilingResult(
                    i,
                    "conflict",
                    ref,
                    c.id,
                    c.status,
                    prior.version,
                    None,
                    [
                        Problem(
                            "/",
                            "withdrawal_refused",
                            "only a declaration withdraws a parcel; "
                            "payment and transport records stay",
                        )
                    ],
                )
                continue
            batch.touch(c, changes)
            c.apply("invalidate", at=now, actor=actor_of(filer), data={"reference": ref})
            changes.notices.append(
                Notice(filer.operator_id, c.id, "invalidated", notice_body(c, "invalidated"))
            )
            results[i] = FilingResult(i, "invalidated", ref, c.id, c.status, prior.version)

    def _assess_and_decide(
        self, filer: Filer, work: list[Work], now: datetime, changes: ChangeSet
    ) -> None:
        if not work:
            return
        # A consignment may appear twice (two legs in one batch): decide its last state once.
        last: dict[str, Work] = {}
        for w in work:
            assert w.consignment is not None
            last[w.consignment.id] = w
        # a lone payment or waybill (or, where the rules say so, legs without the declaration)
        # waits for its partners: nothing to assess yet
        todo = [w for w in last.values() if w.consignment and ready_to_decide(w.consignment, now)]
        if not todo:
            return
        docs = {id(w): w.consignment.document for w in todo if w.consignment}
        full = [w for w in todo if docs[id(w)].data_set != "pre_loading"]
        legal = {id(w): docs[id(w)].legal_date or now.date() for w in todo}
        assessments = self.assessor.assess_batch(
            [
                AssessmentRequest(
                    w.consignment.id,
                    docs[id(w)],
                    legal[id(w)],
                    self.joins.claimants(filer.operator_id, w.consignment.owner, docs[id(w)]),
                )
                for w in full
                if w.consignment
            ]
        )
        by_work = {id(w): a for w, a in zip(full, assessments, strict=True)}
        decisions = self.selector.decide_batch(
            [
                RiskInput(
                    w.consignment.id,
                    docs[id(w)],
                    legal[id(w)],
                    filer.name,
                    w.role,
                    by_work.get(id(w)),
                    [p for p in w.warnings + w.match if p.severity == "warning"],
                    self.joins.claimants(filer.operator_id, w.consignment.owner, docs[id(w)]),
                )
                for w in todo
                if w.consignment
            ]
        )
        actor = "system:pipeline"
        for w, decision in zip(todo, decisions, strict=True):
            c = w.consignment
            assert c is not None
            c.decision = referrals.keep_open(
                with_revenue(with_match(decision, w.match), by_work.get(id(w))), c.decision
            )
            if c.document.data_set == "pre_loading":
                c.apply("refer", at=now, actor=actor, data={"referral": decision.referral})
                kind = "referral"
            else:
                c.assessment = by_work[id(w)]
                c.apply("assess", at=now, actor=actor, data=assessment_summary(c))
                c.apply("decide", at=now, actor=actor, data={"lane": c.decision.lane})
                due = c.assessment.due_at_border
                if due > 0 and c.payment_status in ("none", "due"):
                    c.apply_payment(
                        "charge",
                        at=now,
                        actor=actor,
                        data={"amount": str(due), "currency": c.assessment.currency},
                    )
                elif due == 0 and c.payment_status == "due":
                    c.apply_payment("waive", at=now, actor=actor, data={"reason": "re-assessed"})
                kind = "decision"
            changes.notices.append(Notice(filer.operator_id, c.id, kind, notice_body(c, kind)))
            if c.owner != filer.operator_id:
                changes.notices.append(Notice(c.owner, c.id, kind, notice_body(c, kind)))
