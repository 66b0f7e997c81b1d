"""A commit records each consignment's events in one record; chains written one event per
record (before 2026-12-02) still verify, serve and name tampering, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from clearway.kernel.clock import FixedClock
from clearway.storage import audit, record_view
from clearway.storage import tables as t
from clearway.storage.tables_audit import audit_records
from clearway.wiring.services import Services
from tests.integrity.test_audit_chain import _as_owner, _held_parcel, _triggers_off


def _event_records(services: Services, cid: str) -> list[str]:
    r = audit_records.c
    with services.engine.connect() as conn:
        return list(
            conn.execute(
                select(r.content).where(r.consignment_id == cid, r.kind == "event").order_by(r.seq)
            ).scalars()
        )


def test_one_record_per_commit_holds_its_events(services: Services, clock: FixedClock) -> None:
    cid = _held_parcel(services, clock)  # filed (one commit), then arrived and held (another)
    events = services.store.events_of(cid)
    records = _event_records(services, cid)
    assert len(records) == 2 and len(events) > 2
    served = record_view.load(services.engine, cid)
    assert served is not None and served.intact is True
    assert [(e.kind, e.at, e.actor) for e in served.events] == [
        (e.kind, e.at, e.actor) for e in events
    ]


def _rewrite_one_event_per_record(services: Services, cid: str) -> None:
    """The chain again as the writer before 2026-12-02 made it: a record per event."""
    with services.engine.begin() as conn:
        _triggers_off(conn)
        conn.execute(text("DELETE FROM audit_records WHERE consignment_id = :c"), {"c": cid})
        filings = conn.execute(select(t.filings).where(t.filings.c.consignment_id == cid))
        events = conn.execute(
            select(t.events).where(t.events.c.consignment_id == cid).order_by(t.events.c.id)
        )
        entries = [
            *(
                audit.Entry(cid, "filing", f["received_at"], audit.filing_content(dict(f)))
                for f in filings.mappings()
            ),
            *(
                audit.Entry(cid, "event", e["at"], audit.event_content(dict(e)))
                for e in events.mappings()
            ),
        ]
        row = conn.execute(select(t.consignments).where(t.consignments.c.id == cid))
        audit.append(conn, entries, [dict(row.mappings().one())])


def test_a_chain_of_one_event_per_record_still_verifies(
    services: Services, clock: FixedClock
) -> None:
    cid = _held_parcel(services, clock)
    _rewrite_one_event_per_record(services, cid)
    events = services.store.events_of(cid)
    assert len(_event_records(services, cid)) == len(events)
    assert record_view.verify(services.engine).ok
    served = record_view.load(services.engine, cid)
    assert served is not None and served.intact is True
    assert [e.kind for e in served.events] == [e.kind for e in events]
    # the next commit links its one record of events after the old ones
    c = services.store.load(cid)
    assert c is not None and c.assessment is not None
    clock.advance(timedelta(minutes=30))
    services.clearance.record_payment(
        cid, c.assessment.due_at_border, c.assessment.currency, "PAY-1", "post:Post"
    )
    assert len(_event_records(services, cid)) == len(events) + 1
    assert len(services.store.events_of(cid)) > len(events)
    assert record_view.verify(services.engine).ok
    _as_owner(
        services,
        "UPDATE events SET actor = 'officer:nobody' WHERE consignment_id = :cid AND kind = 'hold'",
        cid=cid,
    )
    [broken] = record_view.verify(services.engine).breaks
    assert broken.consignment_id == cid and broken.kind == "event" and "changed" in broken.what
