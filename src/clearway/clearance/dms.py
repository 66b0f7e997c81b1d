"""EU DMS declarations around the pipeline: MRNs, and follow-ups that find their declaration.

A declaration (H7, H1) accepted by the pipeline gets its movement reference number; amendments,
corrections, invalidations and repayment applications name their declaration by MRN (or, without
one, by the declarant's LRN) and are refused — never taken as new declarations — when it names no
declaration of the sender's. A follow-up that finds its declaration continues under the
declaration's LRN, the filer reference the pipeline keeps versions under.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import msgspec

from clearway.clearance.dms_released import Reassess, after_release
from clearway.clearance.intake import from_record
from clearway.clearance.pipeline import FilingResult, Pipeline
from clearway.clearance.ports import Filer, Store
from clearway.ingestion.dms import mrn as mrns
from clearway.ingestion.dms.answer import for_consignment, render
from clearway.ingestion.dms.pointers import xpath
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import Problem
from clearway.returns.model import Refund
from clearway.returns.service import ReturnsService

FOLLOW_UP_KINDS = frozenset({"amendment", "invalidation", "repayment_application"})
UNKNOWN_DECLARATION = "dms.declaration_unknown"


@dataclass(frozen=True, slots=True)
class DeclarationEntry:
    mrn: str
    consignment_id: str
    operator_id: str
    lrn: str
    procedure_category: str
    issued_at: datetime


class DeclarationRegister(Protocol):
    def issue(self, entry: DeclarationEntry) -> DeclarationEntry: ...
    def by_mrn(self, mrn: str) -> DeclarationEntry | None: ...
    def by_lrn(self, operator_id: str, lrn: str) -> DeclarationEntry | None: ...
    def of_consignment(self, consignment_id: str) -> DeclarationEntry | None: ...


def is_follow_up(record: ParsedRecord) -> bool:
    return record.kind in FOLLOW_UP_KINDS or record.action in ("amend", "cancel")


def find_base(
    record: ParsedRecord, register: DeclarationRegister, operator_id: str
) -> DeclarationEntry | None:
    """The declaration a follow-up names: by MRN, else by LRN — only among the sender's own."""
    mrn = record.references.get("mrn")
    entry = register.by_mrn(mrn) if mrn else None
    if entry is None and not mrn and record.filer_reference:
        entry = register.by_lrn(operator_id, record.filer_reference)
    return entry if entry is not None and entry.operator_id == operator_id else None


def resolve(
    records: Sequence[ParsedRecord], register: DeclarationRegister, operator_id: str
) -> dict[int, DeclarationEntry]:
    """Point each follow-up at its declaration (by index); refuse the ones that name none."""
    found: dict[int, DeclarationEntry] = {}
    for i, record in enumerate(records):
        if not is_follow_up(record) or not record.ok:
            continue
        entry = find_base(record, register, operator_id)
        if entry is None:
            mrn = record.references.get("mrn")
            record.problems.append(
                Problem(
                    xpath("ID") if mrn else xpath("FunctionalReferenceID"),
                    UNKNOWN_DECLARATION,
                    f"no declaration of yours with MRN {mrn}"
                    if mrn
                    else f"no declaration of yours with LRN {record.filer_reference}; name its MRN",
                )
            )
            record.document = None
            continue
        found[i] = entry
        record.filer_reference = entry.lrn
        if record.document is not None:
            record.document = msgspec.structs.replace(record.document, filer_reference=entry.lrn)
    return found


def issue(
    register: DeclarationRegister,
    *,
    consignment_id: str,
    operator_id: str,
    lrn: str,
    category: str,
    country: str,
    at: datetime,
) -> DeclarationEntry:
    """The declaration's MRN: issued on first acceptance, the same one ever after."""
    known = register.of_consignment(consignment_id)
    if known is not None:
        return known
    number = mrns.for_consignment(consignment_id, at.year, country)
    return register.issue(DeclarationEntry(number, consignment_id, operator_id, lrn, category, at))


@dataclass(slots=True)
class Lodged:
    """One DMS message's result, the MRN of the declaration it is or follows, and the refund
    request it made (a repayment, remission or invalidation after release)."""

    result: FilingResult
    mrn: str | None = None
    refund: Refund | None = None


def lodge(
    pipeline: Pipeline,
    register: DeclarationRegister,
    filer: Filer,
    records: Sequence[ParsedRecord],
    *,
    returns: ReturnsService | None = None,
    reassess: Reassess | None = None,
) -> list[Lodged]:
    """File DMS messages: follow-ups resolved first; those on a released declaration (and
    repayment applications) handled by `dms_released`; the rest through the pipeline, accepted
    declarations given their MRN."""
    bases = resolve(records, register, filer.operator_id)
    now = pipeline.clock.now()
    done: dict[int, Lodged] = {}
    for i, entry in bases.items():
        record = records[i]
        c = pipeline.store.load(entry.consignment_id)
        if c is None:
            continue
        repayment = record.kind == "repayment_application"
        late = c.status == "released" or (repayment and c.status == "invalidated")
        if late and returns is not None and reassess is not None:
            followed = after_release(
                index=i,
                record=record,
                c=c,
                filer=filer,
                store=pipeline.store,
                returns=returns,
                reassess=reassess,
                now=now,
            )
            done[i] = Lodged(followed.result, entry.mrn, followed.refund)
        elif late or repayment:
            done[i] = Lodged(_not_released(i, record, c.status), entry.mrn)
    rest = [i for i in range(len(records)) if i not in done]
    subs = [from_record(records[i], "h7") for i in rest]
    results = pipeline.process(filer, subs) if subs else []
    for i, r in zip(rest, results, strict=True):
        r.index = i
        record = records[i]
        base = bases.get(i)
        if r.accepted and r.consignment_id and base is None and record.document is not None:
            stored = pipeline.store.load(r.consignment_id)
            # accepted when the consignment was created: the MRN's year (notices use it too)
            accepted = stored.created_at if stored and stored.created_at else now
            base = issue(
                register,
                consignment_id=r.consignment_id,
                operator_id=filer.operator_id,
                lrn=record.document.filer_reference,
                category=record.references.get("procedure_category", "H7"),
                country=record.document.destination_country,
                at=accepted,
            )
        done[i] = Lodged(r, base.mrn if base is not None else None)
    return [done[i] for i in range(len(records))]


def _not_released(index: int, record: ParsedRecord, status: str) -> FilingResult:
    return FilingResult(
        index,
        "rejected",
        record.filer_reference,
        problems=[
            Problem(
                xpath("ID"),
                "dms.not_released",
                f"the declaration is {status}: repayment and remission apply to a released "
                "declaration; before release, amend or invalidate it",
            )
        ],
    )


def answer(lodged: Lodged, record: ParsedRecord, store: Store, at: datetime) -> bytes:
    """The DMS response to one message: what happened to the declaration, in its words."""
    r = lodged.result
    lrn = r.filer_reference or record.filer_reference or record.source_ref
    c = store.load(r.consignment_id) if r.consignment_id and r.accepted else None
    if c is None:
        status = "rejected" if not r.accepted else "received"
        return render(status=status, lrn=lrn, mrn=lodged.mrn, problems=r.problems, at=at)
    warnings = [p for p in r.problems if p.severity != "error"]
    return for_consignment(c, mrn=lodged.mrn, at=at, problems=warnings)
