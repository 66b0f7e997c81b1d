"""The consignment as its tamper-evident record says: what the API and the pages serve.

The `consignments` row is a projection, kept for the work queues, search, statistics and the
writers' optimistic lock. What a reader is shown is rebuilt from the consignment's chain
(`storage/audit.py`): the document, its version, owner, transport document and legs from the
last `document` record; the decision and assessment from their last records; the status, the
payment status and the times of arrival and closing by replaying the recorded events; the
timeline from the event records. The row is then compared, column by column, with what the
same view projects to; a column that differs is a break (`document`, `decision`,
`assessment` or `status`), so an edit of the table behind the application changes neither
what is served nor goes unseen. `rebuild` rewrites rows from their records.

A consignment with no record at all (stored before the chain existed) is served from its row,
neither intact nor broken; one whose chain predates `document` records is served with its
row's document, which the row's other columns are still checked against.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, func, select, update

from clearway.domain.assessment import Assessment
from clearway.domain.consignment import Consignment, Lifecycle, replay
from clearway.domain.decision import Decision
from clearway.domain.events import Event
from clearway.domain.filing import FilingDocument
from clearway.storage import audit
from clearway.storage import tables as t
from clearway.storage.audit import Break, Walked
from clearway.storage.engine import writer
from clearway.storage.repository import _consignment as from_row  # the store's reading of a row
from clearway.storage.repository import _row as project  # the one row shape the writer stores
from clearway.storage.repository import aware
from clearway.storage.tables_audit import audit_records

_DOC = msgspec.json.Decoder(FilingDocument)
_DECISION = msgspec.json.Decoder(Decision)
_ASSESSMENT = msgspec.json.Decoder(Assessment)
_START = Lifecycle("filed", "none", None, None)  # before the first recorded event

# which recorded part each projected column follows from (the break's kind when it differs)
COLUMNS: dict[str, str] = {
    **dict.fromkeys(
        (
            "document",
            "transport_document",
            "owner_id",
            "version",
            "legs",
            "data_set",
            "mode",
            "destination_country",
            "dispatch_country",
            "office",
            "legal_date",
            "currency",
            "intrinsic_value",
            "order_id",
            "payment_id",
            "consignee_key",
            "seller_key",
        ),
        "document",
    ),
    **dict.fromkeys(("decision", "lane", "referral", "score", "random_sample"), "decision"),
    **dict.fromkeys(
        (
            "assessment",
            "irg_category",
            "collection_model",
            "assessed_currency",
            "assessed_total",
            "due_at_border",
        ),
        "assessment",
    ),
    **dict.fromkeys(("status", "payment_status", "arrived_at", "closed_at"), "status"),
}


@dataclass(frozen=True, slots=True)
class Served:
    """One consignment as its record says, its recorded timeline, and whether its stored rows
    agree with the record (None: there is no record to check them against)."""

    consignment: Consignment
    events: list[Event]
    intact: bool | None
    broken: Break | None
    differs: list[str] = field(default_factory=list)  # projected columns unlike the record
    texts: dict[str, str | None] = field(default_factory=dict)  # recorded document, decision…


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of rows and records (a write committing between two statements
    would otherwise look like tampering). SQLite: the connection's transaction is a snapshot
    already (WAL); PostgreSQL reads committed data per statement unless asked."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


def load(engine: Engine, consignment_id: str) -> Served | None:
    """The consignment as its record says (None: no such consignment)."""
    with _snapshot(engine) as conn:
        found = _examine_chunk(conn, [consignment_id])
    return found.get(consignment_id)


def _examine_chunk(conn: Connection, ids: list[str]) -> dict[str, Served]:
    chains = audit.read_chains(conn, ids)
    rows = {
        row["id"]: row
        for row in conn.execute(select(t.consignments).where(t.consignments.c.id.in_(ids)))
        .mappings()
        .all()
    }
    out: dict[str, Served] = {}
    for cid, row in rows.items():
        recs = chains.records.get(cid, [])
        if not recs:
            out[cid] = Served(from_row(row), _table_events(cid, chains.events[cid]), None, None)
            continue
        walked = audit.walk(cid, recs)
        view, texts, events = _view(row, walked)
        differs = _differs(row, view, texts)
        broken = (
            walked.broken
            or audit.tables_break(cid, walked, chains.events[cid], chains.filings[cid])
            or _projection_break(cid, differs)
        )
        out[cid] = Served(view, events, broken is None, broken, differs, texts)
    return out


def _view(row: Any, walked: Walked) -> tuple[Consignment, dict[str, str | None], list[Event]]:
    """The consignment from its sound records (the row's own id, times and revision), the
    recorded texts of its document, decision and assessment, and its recorded events."""
    parts = walked.parts
    doc = parts.get("document")
    texts: dict[str, str | None] = {
        "document": doc["document"] if doc else row["document"],
        "decision": parts["decision"]["decision"] if "decision" in parts else None,
        "assessment": parts["assessment"]["assessment"] if "assessment" in parts else None,
    }
    events = [_event(row["id"], content) for _, _, content in walked.events]
    life = replay(events, _START) if events else _lifecycle_of(row)
    decision, assessment = texts["decision"], texts["assessment"]
    legs = doc["legs"] if doc else row["legs"]
    view = Consignment(
        id=row["id"],
        transport_document=doc["transport_document"] if doc else row["transport_document"],
        document=_DOC.decode(texts["document"] or ""),
        owner=doc["owner"] if doc else row["owner_id"],
        status=life.status,
        payment_status=life.payment_status,
        version=doc["version"] if doc else row["version"],
        revision=row["revision"],
        decision=_DECISION.decode(decision) if decision else None,
        assessment=_ASSESSMENT.decode(assessment) if assessment else None,
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        arrived_at=life.arrived_at,
        closed_at=life.closed_at,
        legs=legs.split(",") if legs else [],
    )
    return view, texts, events


def _lifecycle_of(row: Any) -> Lifecycle:
    return Lifecycle(
        row["status"], row["payment_status"], aware(row["arrived_at"]), aware(row["closed_at"])
    )


def _event(cid: str, content: dict[str, Any]) -> Event:
    return Event(
        cid,
        content["kind"],
        datetime.fromisoformat(content["at"]),
        content["actor"],
        content["from"],
        content["to"],
        content["data"] or {},
    )


def _table_events(cid: str, rows: list[Any]) -> list[Event]:
    return [_event(cid, audit.event_content(r)) for r in rows]


def expected_row(view: Consignment, texts: dict[str, str | None]) -> dict[str, Any]:
    """The projection the writer would store for `view`, with the recorded texts verbatim."""
    expected = project(view)
    expected.update(texts)
    return expected


def _differs(row: Any, view: Consignment, texts: dict[str, str | None]) -> list[str]:
    expected = expected_row(view, texts)
    return [col for col in COLUMNS if not _same(row[col], expected[col])]


def _same(stored: Any, recorded: Any) -> bool:
    if isinstance(stored, datetime) or isinstance(recorded, datetime):
        return _when(stored) == _when(recorded)
    return bool(stored == recorded)


def _when(value: Any) -> str | None:
    return audit._when(value) if isinstance(value, datetime) else None


def _projection_break(cid: str, differs: list[str]) -> Break | None:
    if not differs:
        return None
    first = differs[0]
    named = ", ".join(differs)
    return Break(
        cid,
        COLUMNS[first],
        f"consignment row ({named})",
        "differs from its record (changed); what is served comes from the record",
    )


# ---------------------------------------------------------------- the whole database
@dataclass(frozen=True, slots=True)
class Report:
    consignments: int
    records: int
    breaks: list[Break]
    unchained: int  # consignments with no record (written before the chain existed)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(engine: Engine, since: date | None = None) -> Report:
    """Recompute every chain (of consignments with records since `since`, when given) against
    the live tables, the consignment rows and the stored digests."""
    r = audit_records.c
    with _snapshot(engine) as conn:
        query = select(r.consignment_id).distinct()
        if since is not None:
            query = query.where(r.at >= datetime.combine(since, time(), UTC))
        chained = sorted(row[0] for row in conn.execute(query))
        all_ids = {row[0] for row in conn.execute(select(t.consignments.c.id))}
        breaks: list[Break] = []
        records = 0
        for chunk in audit._chunks(chained):
            served = _examine_chunk(conn, chunk)
            for cid in chunk:
                found = served.get(cid)
                if found is None:
                    breaks.append(Break(cid, "record", "chain", "records exist but no row"))
                elif found.broken is not None:
                    breaks.append(found.broken)
            records += _count(conn, chunk)
        unchained = sorted(all_ids - set(chained)) if since is None else []
        if since is None:
            # a consignment whose whole chain was deleted still has its events
            with_events = {
                row[0] for row in conn.execute(select(t.events.c.consignment_id).distinct())
            }
            for cid in sorted(with_events & set(unchained)):
                breaks.append(Break(cid, "record", "chain", "events exist but no audit record"))
        breaks += audit.verify_digests(conn, since)
    return Report(len(chained), records, breaks, len(unchained))


def _count(conn: Connection, ids: list[str]) -> int:
    r = audit_records.c
    return int(conn.execute(select(func.count()).where(r.consignment_id.in_(ids))).scalar_one())


@dataclass(frozen=True, slots=True)
class Rebuilt:
    consignment_id: str
    columns: list[str]
    done: bool
    why_not: str = ""


def rebuild(engine: Engine, dry_run: bool = False) -> list[Rebuilt]:
    """Rewrite every consignment row whose projected columns differ from its record (only
    list them with `dry_run`). A row whose chain is itself unsound is left alone: there is
    nothing trustworthy to rebuild it from."""
    out: list[Rebuilt] = []
    with _snapshot(engine) as conn:
        chained = sorted(
            row[0] for row in conn.execute(select(audit_records.c.consignment_id).distinct())
        )
        todo: list[Served] = []
        for chunk in audit._chunks(chained):
            for cid, served in _examine_chunk(conn, chunk).items():
                if not served.differs:
                    continue
                if served.broken is not None and served.broken.kind == "record":
                    out.append(Rebuilt(cid, served.differs, False, str(served.broken)))
                    continue
                todo.append(served)
    for served in todo:
        cid = served.consignment.id
        done = not dry_run and _rewrite(engine, served)
        out.append(Rebuilt(cid, served.differs, done, "" if done or dry_run else "changed"))
    return out


def _rewrite(engine: Engine, served: Served) -> bool:
    """One row rewritten from its record, unless a writer moved it on meanwhile."""
    c = served.consignment
    expected = expected_row(c, served.texts)
    values = {col: expected[col] for col in served.differs}
    tc = t.consignments.c
    with writer(engine).begin() as conn:
        done = conn.execute(
            update(t.consignments)
            .where(tc.id == c.id, tc.revision == c.revision)
            .values(**values, revision=c.revision + 1)
        )
    return bool(done.rowcount == 1)
