"""Lifecycle commands after the decision: arrivals, holds, officer actions, payment.

Each handler loads the consignments it touches, applies the state machine, and commits one
change set. Release happens only when every hold is lifted and nothing is due at the border.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import msgspec

from clearway.clearance import referrals
from clearway.clearance.correction import Reassess, apply_correction
from clearway.clearance.notices import notice_body
from clearway.clearance.ports import (
    AccountGate,
    ChangeSet,
    Hold,
    Notice,
    SingleWindow,
    Store,
)
from clearway.clearance.retry import with_retries
from clearway.domain.assessment import MANUAL_ASSESSMENT
from clearway.domain.consignment import Consignment
from clearway.domain.decision import Reason, worst_lane
from clearway.domain.lifecycle import FINAL_STATUSES, PRE_ARRIVAL
from clearway.kernel import codes
from clearway.kernel.clock import Clock
from clearway.kernel.errors import DomainError, InvalidInput, NotFound, Problem
from clearway.kernel.ids import new_id
from clearway.matching.merge import missing_legs as missing
from clearway.matching.rules import rules_for

ArrivalAnswer = Literal["release", "hold", "unknown"]
OFFICER_ACTIONS = (
    "request_documents",
    "record_inspection",
    "hold",
    "lift_hold",
    "release",
    "seize",
    "return_to_sender",
    "abandon",
    "resolve_referral",  # information supplied, screening result or officer decision
    "clear",  # a Single Window agency's clearance (routes_agencies)
)
# Why a lane stops a parcel on arrival (the customs hold placed for it)
_LANE_HOLDS = {
    "yellow": "documentary check (yellow lane)",
    "red": "physical or non-intrusive inspection (red lane)",
}
# Holds are told apart by their reason text (a hold kind column would be sturdier); the text
# lives here once so that placing and lifting a payment hold cannot drift apart.
PAYMENT_HOLD = "duty and tax due from the consignee: awaiting payment"


@dataclass(slots=True)
class ArrivalResult:
    transport_document: str
    answer: ArrivalAnswer
    consignment_id: str | None = None
    status: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ActionRequest:
    action: str
    actor: str  # "officer:<name>"
    reason: str | None = None
    authority: str = "customs"
    found: bool | None = None
    corrected_value: Decimal | None = None
    corrected_hs_code: str | None = None
    notes: str | None = None
    hold_id: str | None = None
    corrected_item: int = 0  # the item (0-based) a corrected HS code is about
    resolution: str | None = None  # for resolve_referral: the action the referral names


class Clearance:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        gate: AccountGate | None = None,
        reassess: Reassess | None = None,
        single_window: SingleWindow | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.gate = gate  # accounts: guarantee holds on arrival, accrual on release
        self.reassess = reassess  # an inspection's corrections are assessed again
        self.single_window = single_window  # routed agencies' clearance awaited on arrival

    def _notify(self, c: Consignment, kind: str, changes: ChangeSet) -> None:
        """A notice for every operator that filed about the parcel (its owner at least)."""
        for op in self.store.operators_of([c.id]).get(c.id, {c.owner}):
            changes.notices.append(Notice(op, c.id, kind, notice_body(c, kind)))

    # ------------------------------------------------------------------ arrivals
    def arrive(
        self, transport_documents: Sequence[str], actor: str, office: str | None = None
    ) -> list[ArrivalResult]:
        return with_retries(
            lambda: self._arrive_once(transport_documents, actor, office), "the arrival"
        )

    def _arrive_once(
        self, tds: Sequence[str], actor: str, office: str | None
    ) -> list[ArrivalResult]:
        now = self.clock.now()
        heads = self.store.heads_by_transport_document(tds)
        loaded = self.store.load_many([h.id for h in heads.values()])
        holds = self.store.open_holds(list(loaded))
        operators = self.store.operators_of(list(loaded))
        arriving = [c for c in loaded.values() if _not_arrived(c)]
        account_holds = self.gate.holds_for(arriving) if self.gate else {}
        awaited = self.single_window.awaited(arriving) if self.single_window else {}
        changes = ChangeSet()
        out: list[ArrivalResult] = []
        for td in tds:
            head = heads.get(td)
            c = loaded.get(head.id) if head else None
            if c is None:
                out.append(ArrivalResult(td, "unknown", reasons=["no filing for this parcel"]))
                continue
            old = c.status
            if not _not_arrived(c):
                # Presented again: answer from the current state, change nothing.
                out.append(_answer(c, holds.get(c.id, []), []))
                continue
            # Arrival is always an event, also for a parcel held before it (time-release
            # measures from it); a held parcel stays held.
            c.apply("arrive", at=now, actor=actor, data={"office": office} if office else None)
            reasons = self._hold_reasons(c, holds.get(c.id, []))
            if c.id in account_holds:
                reasons.append(account_holds[c.id])
            new = [("customs", r) for r in reasons]
            new += sorted(awaited.get(c.id, {}).items())
            for authority, r in new:
                hold = Hold(new_id("hld"), c.id, authority, r, "system:arrival", now)
                changes.holds.append(hold)
                holds.setdefault(c.id, []).append(hold)
            reasons = [r for _, r in new]
            if new:
                c.apply("hold", at=now, actor="system:arrival", data={"reasons": reasons})
            elif holds.get(c.id):
                reasons = [h.reason for h in holds[c.id] if h.open]
            else:
                c.apply("release", at=now, actor="system:arrival", data={"lane": _lane(c)})
            changes.updated.append((c, old))
            for op in operators.get(c.id, {c.owner}):
                changes.notices.append(Notice(op, c.id, c.status, notice_body(c, c.status)))
            out.append(_answer(c, holds.get(c.id, []), reasons))
        if changes:
            self.store.commit(changes)
            self._accrue(changes)
        return out

    def _accrue(self, changes: ChangeSet) -> None:
        """Tell accounts about parcels this change set released (after the commit; the monthly
        declaration sweeps up any that a crash in between would miss)."""
        if self.gate is not None:
            done = [c for c, old in changes.updated if c.status == "released" and old != c.status]
            if done:
                self.gate.released(done)

    @staticmethod
    def _hold_reasons(c: Consignment, open_holds: list[Hold]) -> list[str]:
        d = c.decision
        reasons: list[str] = []
        if d is None or d.lane is None:
            reasons.append("no pre-arrival decision: complete data set needed")
        elif d.lane in _LANE_HOLDS:
            reasons.append(_LANE_HOLDS[d.lane])
        if c.payment_status == "due":
            reasons.append(PAYMENT_HOLD)
        if c.assessment is not None and MANUAL_ASSESSMENT in c.assessment.flags:
            reasons.append("manual assessment required: duty and tax could not be computed")
        missing = missing_legs(c)
        if missing:
            reasons.append(f"record match incomplete: no {' or '.join(missing)} record on file")
        return reasons

    # ------------------------------------------------------------------ officer actions
    def act(self, consignment_id: str, req: ActionRequest) -> Consignment:
        return with_retries(lambda: self._act_once(consignment_id, req), f"the {req.action}")

    def _act_once(self, consignment_id: str, req: ActionRequest) -> Consignment:
        if req.action not in OFFICER_ACTIONS:
            raise DomainError(
                f"unknown action {req.action!r}; actions: {', '.join(OFFICER_ACTIONS)}"
            )
        c = self.store.load(consignment_id)
        if c is None:
            raise NotFound(f"no consignment {consignment_id}")
        now = self.clock.now()
        old = c.status
        changes = ChangeSet(updated=[(c, old)])
        open_holds = self.store.open_holds([c.id]).get(c.id, [])
        data: dict[str, Any] = {"reason": req.reason} if req.reason else {}
        if req.action in ("hold", "request_documents"):
            reason = req.reason or (
                "documents requested" if req.action == "request_documents" else None
            )
            if not reason:
                raise DomainError("a hold needs a reason")
            changes.holds.append(Hold(new_id("hld"), c.id, req.authority, reason, req.actor, now))
            c.apply(
                req.action,
                at=now,
                actor=req.actor,
                data={"reason": reason, "authority": req.authority},
            )
        elif req.action == "lift_hold":
            lifted = _lift(open_holds, req, now)
            changes.lifted.extend(lifted)
            c.apply(
                "lift_hold",
                at=now,
                actor=req.actor,
                data={
                    "holds": [h.id for h in lifted],
                    "reason": req.reason,
                    "authority": req.authority,
                },
            )
            gone = {h.id for h in lifted}
            _after_last_hold(c, [h for h in open_holds if h.id not in gone], req.actor, now)
        elif req.action == "clear":
            if req.authority == "customs":
                raise DomainError("clearance is an agency's action; customs releases")
            reason = req.reason or "cleared"
            ours = [h for h in open_holds if h.authority == req.authority]
            changes.lifted.extend(_lifted(h, req.actor, now, reason) for h in ours)
            # the clearance itself, as a hold placed and lifted at once: the agency has acted
            given = Hold(new_id("hld"), c.id, req.authority, "clearance", req.actor, now)
            changes.holds.append(_lifted(given, req.actor, now, reason))
            c.apply("clear", at=now, actor=req.actor, data={"authority": req.authority, **data})
            remaining = [h for h in open_holds if h.authority != req.authority]
            _after_last_hold(c, remaining, req.actor, now)
        elif req.action == "record_inspection":
            if req.found is None:
                raise DomainError("an inspection result needs `found` (true or false)")
            _check_inspection(req)
            result = {
                "found": req.found,
                "corrected_value": str(req.corrected_value)
                if req.corrected_value is not None
                else None,
                "corrected_hs_code": req.corrected_hs_code,
                "notes": req.notes,
            }
            changes.inspections.append(
                {
                    "id": new_id("ins"),
                    "consignment_id": c.id,
                    "officer": req.actor,
                    "at": now,
                    **result,
                }
            )
            if self.reassess is not None:  # see clearance/correction.py
                fix = apply_correction(
                    c,
                    self.reassess,
                    value=req.corrected_value,
                    hs_code=req.corrected_hs_code,
                    item=req.corrected_item,
                    open_holds=open_holds,
                    payment_hold=PAYMENT_HOLD,
                    actor=req.actor,
                    now=now,
                    new_hold_id=lambda: new_id("hld"),
                )
                changes.holds.extend(fix.new_holds)
                changes.lifted.extend(_lifted(h, req.actor, now, "inspected") for h in fix.lifted)
                result.update(fix.data)
            c.apply("inspect", at=now, actor=req.actor, data=result)
        elif req.action == "resolve_referral":
            c.decision = referrals.resolve(
                c.decision, req.resolution or "", req.reason or req.notes or "resolved"
            )
            c.apply(
                "resolve_referral",
                at=now,
                actor=req.actor,
                data={"resolution": req.resolution, "reason": req.reason, "found": req.found},
            )
        elif req.action == "release":
            customs = [h for h in open_holds if h.authority == "customs"]
            others = [h for h in open_holds if h.authority != "customs"]
            if others:
                raise DomainError(
                    "cannot release: holds still open by "
                    + ", ".join(sorted({h.authority for h in others}))
                )
            if c.payment_status == "due":
                raise DomainError("cannot release: duty and tax are due and not paid")
            # The releasing officer lifts customs' own holds with the release.
            for h in customs:
                changes.lifted.append(_lifted(h, req.actor, now, req.reason or "released"))
            c.apply("release", at=now, actor=req.actor, data=data)
        else:
            c.apply(req.action, at=now, actor=req.actor, data=data)
            if c.status in FINAL_STATUSES:
                # the parcel's fate is decided: every open hold ends with it, audited as such
                why = f"closed: {c.status.replace('_', ' ')}"
                changes.lifted.extend(_lifted(h, req.actor, now, why) for h in open_holds)
        self._notify(c, req.action, changes)
        self.store.commit(changes)
        self._accrue(changes)
        return c

    # ------------------------------------------------------------------ Single Window time-outs
    def lapse_agency_waits(self) -> list[str]:
        """Lift the arrival holds agencies left unanswered past their configured time-out; a
        parcel with nothing else holding it goes on. Returns the consignments touched."""
        if self.single_window is None:
            return []
        touched = []
        for cid, agency, why in self.single_window.lapsed(self.clock.now()):
            lift = ActionRequest("lift_hold", "system:single_window", why, authority=agency)
            try:
                self.act(cid, lift)
            except DomainError:
                continue  # lifted meanwhile by the agency itself
            touched.append(cid)
        return touched

    # ------------------------------------------------------------------ overdue record legs
    def flag_overdue_legs(self, consignment_ids: Sequence[str]) -> list[str]:
        """Legs still missing after the destination's wait become a reason on the decision and
        at least a documentary check. Returns the consignments flagged."""
        now = self.clock.now()
        changes = ChangeSet()
        flagged: list[str] = []
        for c in self.store.load_many(list(consignment_ids)).values():
            doc = c.document
            if c.status not in ("referred", "decided") or c.decision is None or not c.created_at:
                continue
            rules = rules_for(doc.destination_country, doc.legal_date or c.created_at.date())
            missing = missing_legs(c)
            waited = (now - c.created_at).total_seconds() / 3600
            already = any(r.code == "match_leg_overdue" for r in c.decision.reasons)
            if not missing or waited < rules.wait_hours or already:
                continue
            text = f"no {' or '.join(missing)} record {rules.wait_hours} h after filing"
            reasons = [*c.decision.reasons, Reason("match", "match_leg_overdue", text)]
            lane = worst_lane(c.decision.lane, "yellow") if c.decision.lane else None
            c.decision = msgspec.structs.replace(c.decision, reasons=reasons, lane=lane)
            old = c.status
            c.apply("flag", at=now, actor="system:matching", data={"reason": text})
            changes.updated.append((c, old))
            self._notify(c, "flag", changes)
            flagged.append(c.id)
        if changes:
            self.store.commit(changes)
        return flagged

    # ------------------------------------------------------------------ payment
    def record_payment(
        self, consignment_id: str, amount: Decimal, currency: str, reference: str, actor: str
    ) -> Consignment:
        c = self.store.load(consignment_id)
        if c is None:
            raise NotFound(f"no consignment {consignment_id}")
        a = c.assessment
        if a is None or c.payment_status != "due":
            raise DomainError(f"nothing is due on this consignment (payment {c.payment_status})")
        if currency != a.currency or amount != a.due_at_border:
            raise DomainError(f"the amount due is {a.due_at_border} {a.currency}")
        now = self.clock.now()
        old = c.status
        changes = ChangeSet(updated=[(c, old)])
        c.apply_payment(
            "pay", at=now, actor=actor, data={"reference": reference, "amount": str(amount)}
        )
        open_holds = self.store.open_holds([c.id]).get(c.id, [])
        payment_holds = [h for h in open_holds if h.reason == PAYMENT_HOLD]
        for h in payment_holds:
            changes.lifted.append(_lifted(h, actor, now, f"paid, reference {reference}"))
        remaining = [h for h in open_holds if h not in payment_holds]
        if c.status == "held" and not remaining:
            c.apply("release", at=now, actor="system:payment", data={"reference": reference})
        self._notify(c, "payment", changes)
        self.store.commit(changes)
        self._accrue(changes)
        return c

    def lift_holds_with(
        self, consignment_ids: Sequence[str], marker: str, actor: str, reason: str
    ) -> list[str]:
        """Lift the open holds whose reason starts with `marker` on these parcels (e.g. an
        account's guarantee hold once it is paid or raised); a parcel with nothing else holding
        it is released. Returns the ids of the parcels released."""
        released: list[str] = []
        for cid in consignment_ids:
            lift = functools.partial(self._lift_marked_once, cid, marker, actor, reason)
            if with_retries(lift, "the release"):
                released.append(cid)
        return released

    def _lift_marked_once(self, cid: str, marker: str, actor: str, reason: str) -> bool:
        c = self.store.load(cid)
        if c is None:
            return False
        open_holds = self.store.open_holds([cid]).get(cid, [])
        marked = [h for h in open_holds if h.reason.startswith(marker)]
        if not marked or c.status not in ("held", "arrived", "inspected"):
            return False
        now = self.clock.now()
        old = c.status
        changes = ChangeSet(updated=[(c, old)])
        changes.lifted.extend(_lifted(h, actor, now, reason) for h in marked)
        c.apply(
            "lift_hold",
            at=now,
            actor=actor,
            data={"holds": [h.id for h in marked], "reason": reason},
        )
        remaining = [h for h in open_holds if h not in marked]
        if c.status != "held" and not remaining and c.payment_status != "due":
            c.apply("release", at=now, actor=actor, data={"reason": reason})
        else:
            _after_last_hold(c, remaining, actor, now, reason)
        self._notify(c, c.status, changes)
        self.store.commit(changes)
        self._accrue(changes)
        return c.status == "released"


def _after_last_hold(
    c: Consignment, remaining: list[Hold], actor: str, now: Any, reason: str = "last hold lifted"
) -> None:
    """With no hold left, a held parcel goes where it would have been without them: released
    if it has arrived and nothing is due, back to decided (awaiting arrival) if it has not."""
    if c.status != "held" or remaining:
        return
    if c.arrived_at is None:
        c.apply("resume", at=now, actor=actor, data={"reason": reason})
    elif c.payment_status != "due":
        c.apply("release", at=now, actor=actor, data={"reason": reason})


def _check_inspection(req: ActionRequest) -> None:
    """Corrections feed the risk model: they must be real amounts and real HS codes."""
    problems = []
    value = req.corrected_value
    if value is not None and (not value.is_finite() or value < 0 or value >= 10**12):
        problems.append(Problem("/corrected_value", "range", "a finite amount, 0 or more"))
    if req.corrected_hs_code is not None:
        hs = codes.normalise_hs(req.corrected_hs_code)
        why = codes.hs_problem(hs)
        if why:
            problems.append(Problem("/corrected_hs_code", "hs_unknown", why))
        else:
            req.corrected_hs_code = hs
    if problems:
        raise InvalidInput(problems, "the inspection result is not valid")


def missing_legs(c: Consignment) -> list[str]:
    """Legs the destination requires before release that are not on file."""
    doc = c.document
    at = doc.legal_date or (c.created_at.date() if c.created_at else None)
    if at is None:
        return []
    return missing(c.legs, doc, rules_for(doc.destination_country, at))


def _lifted(h: Hold, actor: str, now: Any, reason: str) -> Hold:
    return Hold(
        h.id, h.consignment_id, h.authority, h.reason, h.placed_by, h.placed_at, actor, now, reason
    )


def _lift(open_holds: list[Hold], req: ActionRequest, now: Any) -> list[Hold]:
    mine = [
        h
        for h in open_holds
        if h.authority == req.authority and (req.hold_id is None or h.id == req.hold_id)
    ]
    if not mine:
        raise DomainError(f"no open hold by {req.authority} to lift")
    if not req.reason:
        raise DomainError("lifting a hold needs a reason")
    return [_lifted(h, req.actor, now, req.reason) for h in mine]


def _not_arrived(c: Consignment) -> bool:
    """Not presented yet: before the decision's end, or held before it arrived."""
    return c.status in PRE_ARRIVAL or (c.status == "held" and c.arrived_at is None)


def _lane(c: Consignment) -> str | None:
    return c.decision.lane if c.decision else None


def _answer(c: Consignment, holds: list[Hold], reasons: list[str]) -> ArrivalResult:
    if c.status == "released":
        return ArrivalResult(c.transport_document, "release", c.id, c.status)
    why = reasons or [h.reason for h in holds if h.open] or [f"consignment is {c.status}"]
    return ArrivalResult(c.transport_document, "hold", c.id, c.status, why)
