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

from clearway.clearance.intake import from_record
from clearway.clearance.pipeline import FilingResult, Pipeline
from clearway.clearance.ports import Filer
from clearway.ingestion.dms import mrn as mrns
from clearway.ingestion.dms.pointers import xpath
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import Problem

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
    """One DMS message's result and the MRN of the declaration it is or follows."""

    result: FilingResult
    mrn: str | None = None


def lodge(
    pipeline: Pipeline,
    register: DeclarationRegister,
    filer: Filer,
    records: Sequence[ParsedRecord],
) -> list[Lodged]:
    """File DMS messages: follow-ups resolved first, accepted declarations given their MRN."""
    bases = resolve(records, register, filer.operator_id)
    subs = [from_record(r, "h7") for r in records]
    results = pipeline.process(filer, subs) if subs else []
    now = pipeline.clock.now()
    out: list[Lodged] = []
    for i, (record, r) in enumerate(zip(records, results, strict=True)):
        entry = bases.get(i)
        if r.accepted and r.consignment_id and entry is None and record.document is not None:
            entry = issue(
                register,
                consignment_id=r.consignment_id,
                operator_id=filer.operator_id,
                lrn=record.document.filer_reference,
                category=record.references.get("procedure_category", "H7"),
                country=record.document.destination_country,
                at=now,
            )
        out.append(Lodged(r, entry.mrn if entry is not None else None))
    return out
