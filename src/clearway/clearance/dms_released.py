"""EU DMS follow-ups on a released declaration do what the law gives them to do.

After release the goods are in free circulation and the parcel's record is closed, so the
pipeline (which changes parcels before arrival) does not take these; this module does:

- an amendment or correction (Art. 173(3) UCC) is a new version of the declaration, assessed
  again at its legal date; what changes in the amount owed becomes an extra charge (the
  difference is due again) or a repayment request for the difference (Art. 116(1)(a) UCC);
- an invalidation (Art. 174 UCC with Art. 148 DA: goods sold at a distance and returned, and the
  other reasons of the invalidation code lists) invalidates the released declaration and asks for
  the repayment of what was owed on it (legal basis E) — or of the amount its 4C application
  names;
- a 4C repayment or remission application (FunctionCode 37) asks for the amount it names.

Each repayment is a refund request in the returns module: pending an officer's decision, then
paid (or settled through the collecting account). The reason codes come from the DMS code lists.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from clearway.clearance.batch import FilingResult, Outcome, body_hash
from clearway.clearance.notices import notice_body
from clearway.clearance.ports import ChangeSet, Filer, NewFiling, Notice, Store
from clearway.domain.assessment import Assessment
from clearway.domain.consignment import Consignment
from clearway.domain.filing import FilingDocument, encode
from clearway.ingestion.dms.pointers import xpath
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import Problem
from clearway.kernel.ids import new_id
from clearway.returns.model import Refund
from clearway.returns.service import ReturnsService

Reassess = Callable[[FilingDocument, date], Assessment]
_INVALIDATION_LISTS = ("CL10066", "CL10187")  # invalidation reasons
_PARTIAL_INVALIDATION = "CL10057"  # its 2x codes: partial invalidation with the same grounds
_LEGAL_BASES = "CL10270"


@cache
def codes(code_list: str) -> dict[str, str]:
    """A DMS code list: code → description (shipped under ingestion/data/dms_codelists)."""
    text = (
        resources.files("clearway.ingestion")
        .joinpath("data", "dms_codelists", f"{code_list}.csv")
        .read_text(encoding="utf-8")
    )
    return {row["Code"]: row["Description"] for row in csv.DictReader(text.splitlines())}


def invalidation_reason(code: str | None) -> str | None:
    """The description of an invalidation reason code, None when no list has it."""
    if not code:
        return None
    for name in _INVALIDATION_LISTS:
        if code in codes(name):
            return codes(name)[code]
    if code.startswith(("2", "3")) and code in codes(_PARTIAL_INVALIDATION):
        return codes(_PARTIAL_INVALIDATION)[code]
    return None


@dataclass(slots=True)
class Followed:
    result: FilingResult
    refund: Refund | None = None


def _refused(index: int, ref: str | None, path: str, code: str, message: str) -> Followed:
    return Followed(FilingResult(index, "rejected", ref, problems=[Problem(path, code, message)]))


def _actor(filer: Filer) -> str:
    return f"{filer.role}:{filer.name}"


def after_release(
    *,
    index: int,
    record: ParsedRecord,
    c: Consignment,
    filer: Filer,
    store: Store,
    returns: ReturnsService,
    reassess: Reassess,
    now: datetime,
) -> Followed:
    """Apply a follow-up to a released (or, for repayment, invalidated) declaration."""
    if record.kind == "repayment_application":
        return _repayment(index, record, c, filer, store, returns, now)
    if record.kind == "invalidation":
        return _invalidation(index, record, c, filer, store, returns, now)
    return _amendment(index, record, c, filer, store, returns, reassess, now)


def _owed(c: Consignment) -> tuple[Decimal, str]:
    a = c.assessment
    return (a.total, a.currency) if a is not None else (Decimal(0), c.document.currency)


def _request(
    returns: ReturnsService,
    c: Consignment,
    filer: Filer,
    amount: Decimal,
    currency: str,
    why: str,
    duty_type: str | None,
) -> Refund:
    return returns.request_repayment(
        consignment_id=c.id,
        claimant=_actor(filer),
        amount=amount,
        currency=currency,
        reason=why,
        duty_type=duty_type,
    )


def _commit(store: Store, c: Consignment, before: str, filer: Filer, kind: str) -> None:
    changes = ChangeSet(updated=[(c, before)])
    changes.notices.append(Notice(filer.operator_id, c.id, kind, notice_body(c, kind)))
    store.commit(changes)


@dataclass(frozen=True, slots=True)
class _Step:
    """What a repayment-asking follow-up records: its lifecycle event, the notice it sends and
    the outcome its filer is answered."""

    event: str
    data: dict[str, Any]
    notice: str
    outcome: Outcome


def _record_and_repay(
    step: _Step,
    index: int,
    record: ParsedRecord,
    c: Consignment,
    filer: Filer,
    store: Store,
    returns: ReturnsService,
    now: datetime,
    owed: tuple[Decimal, str],
    why: str,
) -> Followed:
    """Record the follow-up on the parcel, notify its filer, then ask for the repayment."""
    before = c.status
    c.apply(step.event, at=now, actor=_actor(filer), data=step.data)
    _commit(store, c, before, filer, step.notice)
    amount, currency = owed
    refund = _request(returns, c, filer, amount, currency, why, record.references.get("duty_type"))
    ref = record.filer_reference
    result = FilingResult(index, step.outcome, ref, c.id, c.status, None, c.decision)
    return Followed(result, refund)


def _application_amount(record: ParsedRecord) -> tuple[Decimal, str] | None:
    amount = record.references.get("repayment_amount")
    currency = record.references.get("repayment_currency")
    if amount is None or currency is None:
        return None
    return Decimal(amount), currency


def _repayment(
    index: int,
    record: ParsedRecord,
    c: Consignment,
    filer: Filer,
    store: Store,
    returns: ReturnsService,
    now: datetime,
) -> Followed:
    ref = record.filer_reference
    basis = record.references.get("legal_basis")
    if basis not in codes(_LEGAL_BASES):
        return _refused(
            index,
            ref,
            xpath("RepaymentRemissionAuthorisation", "LegalBasis"),
            "dms.legal_basis",
            f"legal basis {basis!r} is not in code list CL10270 (A-E)",
        )
    applied = _application_amount(record)
    if applied is None:
        return _refused(
            index,
            ref,
            xpath("RepaymentRemissionAuthorisation", "AmountDuty"),
            "dms.amount_missing",
            "a repayment or remission application names its amount and currency",
        )
    amount, currency = applied
    kind = "remission" if record.references.get("application_type") == "REM" else "repayment"
    why = (
        f"{kind} application (4C, Art. 116 UCC) of {amount} {currency}, legal basis {basis}: "
        f"{codes(_LEGAL_BASES)[basis]}"
    )
    if grounds := record.references.get("trader_grounds"):
        why += f"; grounds: {grounds}"
    data = {"kind": kind, "amount": str(amount), "currency": currency, "legal_basis": basis}
    step = _Step("request_repayment", data, "repayment_requested", "accepted")
    return _record_and_repay(
        step, index, record, c, filer, store, returns, now, (amount, currency), why
    )


def _invalidation(
    index: int,
    record: ParsedRecord,
    c: Consignment,
    filer: Filer,
    store: Store,
    returns: ReturnsService,
    now: datetime,
) -> Followed:
    ref = record.filer_reference
    code = record.references.get("change_reason_code")
    reason = invalidation_reason(code)
    if reason is None:
        return _refused(
            index,
            ref,
            xpath("Amendment", "ChangeReasonCode"),
            "dms.reason_code",
            f"a released declaration is invalidated only on a reason of the invalidation code "
            f"lists (CL10066, CL10187), not {code!r} (Art. 174 UCC, Art. 148 DA)",
        )
    applied = _application_amount(record)
    amount, currency = applied if applied is not None else _owed(c)
    why = f"declaration invalidated after release (reason {code}: {reason}); legal basis E"
    data = {"reason_code": code, "reason": reason, "reference": ref}
    step = _Step("invalidate_after_release", data, "invalidated", "invalidated")
    return _record_and_repay(
        step, index, record, c, filer, store, returns, now, (amount, currency), why
    )


def _amendment(
    index: int,
    record: ParsedRecord,
    c: Consignment,
    filer: Filer,
    store: Store,
    returns: ReturnsService,
    reassess: Reassess,
    now: datetime,
) -> Followed:
    doc = record.document
    ref = record.filer_reference
    if doc is None or ref is None:
        return _refused(index, ref, xpath("GoodsShipment"), "h7.missing", "no goods data")
    body = encode(doc)
    digest = body_hash(body)
    prior = store.filings_by_reference(filer.operator_id, [ref]).get(ref)
    version = (prior.version if prior else c.version) + 1
    if prior is not None and prior.body_hash == digest:
        return Followed(FilingResult(index, "duplicate", ref, c.id, c.status, prior.version))
    legal = c.document.legal_date or (
        date.fromisoformat(c.assessment.legal_date) if c.assessment else now.date()
    )
    old_total, currency = _owed(c)
    assessment = reassess(doc, legal)
    new_total = assessment.total
    before = c.status
    c.document = doc
    c.assessment = assessment
    c.version += 1
    change = new_total - old_total
    c.apply(
        "amend_after_release",
        at=now,
        actor=_actor(filer),
        data={
            "version": version,
            "reference": ref,
            "change_reason_code": record.references.get("change_reason_code"),
            "old_total": str(old_total),
            "new_total": str(new_total),
            "currency": assessment.currency,
        },
    )
    if change > 0 and assessment.payable_by == "consumer":
        c.apply_payment(
            "charge",
            at=now,
            actor="system:dms",
            data={"amount": str(change), "currency": assessment.currency, "reason": "amendment"},
        )
    changes = ChangeSet(updated=[(c, before)])
    changes.filings.append(
        NewFiling(
            new_id("fil"),
            c.id,
            filer.operator_id,
            filer.role,
            ref,
            version,
            digest,
            body.decode(),
            "h7",
            None,
            now,
        )
    )
    changes.notices.append(Notice(filer.operator_id, c.id, "amended", notice_body(c, "amended")))
    store.commit(changes)
    refund = None
    if change < 0:
        why = (
            f"post-release amendment (reason {record.references.get('change_reason_code')}) "
            f"lowers the amount owed from {old_total} to {new_total} {currency}: the difference "
            "is repaid (Art. 116(1)(a) UCC, legal basis A)"
        )
        refund = _request(returns, c, filer, -change, currency, why, None)
    result = FilingResult(index, "amended", ref, c.id, c.status, version, c.decision)
    return Followed(result, refund)
