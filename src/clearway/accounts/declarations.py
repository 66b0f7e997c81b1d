"""Consolidated declarations: item-level lines from assessments, totals per tax and rate, and
line-by-line reconciliation of an operator's report. Pure functions."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from clearway.accounts.model import Difference, Line, ReportLine, Total
from clearway.domain.assessment import Assessment
from clearway.kernel.errors import InvalidInput, Problem

ZERO = Decimal(0)
MAX_REPORT_LINES = 200_000


def lines_of(
    consignment_id: str,
    transport_document: str,
    registration_number: str | None,
    assessment: Assessment,
) -> list[Line]:
    """One line per charge of the assessment (per item, or for the consignment)."""
    return [
        Line(
            consignment_id,
            transport_document,
            registration_number,
            ch.item,
            ch.kind,
            ch.rate,
            ch.amount,
        )
        for ch in assessment.charges
        if ch.amount != 0
    ]


def totals_of(lines: Iterable[Line]) -> list[Total]:
    """Totals per tax kind and rate, sorted; exact (the lines are already rounded amounts)."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for ln in lines:
        sums[(ln.kind, ln.rate or "")] += ln.amount
    return [Total(kind, rate or None, amount) for (kind, rate), amount in sorted(sums.items())]


def grand_total(totals: Iterable[Total]) -> Decimal:
    return sum((t.amount for t in totals), ZERO)


def reconcile(recorded: Sequence[Line], reported: Sequence[ReportLine]) -> list[Difference]:
    """Compare per parcel and tax kind what customs recorded with what the operator reports."""
    ours: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for ln in recorded:
        ours[(ln.transport_document, ln.kind)] += ln.amount
    theirs: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in reported:
        theirs[(r.transport_document.strip().upper(), r.kind.strip().lower())] += r.amount
    out: list[Difference] = []
    for key in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(key), theirs.get(key)
        if a is None:
            out.append(Difference(key[0], key[1], "not_recorded_by_customs", None, b))
        elif b is None:
            if a != 0:
                out.append(Difference(key[0], key[1], "missing_from_report", a, None))
        elif a != b:
            out.append(Difference(key[0], key[1], "amount_differs", a, b))
    return out


def parse_report(fmt: str, content: str | list[dict[str, object]]) -> list[ReportLine]:
    """An operator report as CSV text (`transport_document,kind,amount`) or JSON lines; every
    bad row is reported with its position."""
    problems: list[Problem] = []
    out: list[ReportLine] = []
    if fmt == "csv":
        if not isinstance(content, str):
            raise InvalidInput([Problem("/content", "type", "CSV content must be text")])
        reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
        need = {"transport_document", "kind", "amount"}
        if not reader.fieldnames or not need <= {f.strip() for f in reader.fieldnames}:
            raise InvalidInput(
                [Problem("/content", "columns", "CSV header needs transport_document,kind,amount")]
            )
        rows: list[dict[str, object]] = [
            {k.strip(): v for k, v in row.items() if k is not None} for row in reader
        ]
    elif fmt == "json":
        if not isinstance(content, list):
            raise InvalidInput([Problem("/lines", "type", "JSON lines must be a list")])
        rows = content
    else:
        raise InvalidInput([Problem("/format", "enum", "format is csv or json")])
    if len(rows) > MAX_REPORT_LINES:
        raise InvalidInput([Problem("/", "too_many", f"at most {MAX_REPORT_LINES} lines")])
    for i, row in enumerate(rows):
        where = f"/lines/{i}"
        try:
            amount = Decimal(str(row.get("amount", "")).strip())
            if not amount.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append(Problem(f"{where}/amount", "amount", "not a decimal amount"))
            continue
        td, kind = str(row.get("transport_document") or ""), str(row.get("kind") or "")
        if not td.strip() or not kind.strip() or len(td) > 50 or len(kind) > 24:
            problems.append(Problem(where, "line", "transport_document and kind are needed"))
            continue
        out.append(ReportLine(td.strip().upper(), kind.strip().lower(), amount))
    if problems:
        raise InvalidInput(problems[:100], detail=f"{len(problems)} bad report lines")
    return out
