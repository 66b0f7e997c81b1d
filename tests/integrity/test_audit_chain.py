"""The tamper-evident record: each kind of stored record is tampered with, on SQLite and
PostgreSQL, and `audit verify` names the consignment and what broke; PostgreSQL (and SQLite)
refuse UPDATE and DELETE on the append-only tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.cli.main import app as cli
from clearway.domain.filing import from_builtins
from clearway.kernel.clock import FixedClock
from clearway.storage import audit, record_view
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.integrity.conftest import key
from tests.web.conftest import login

APPEND_ONLY = ("events", "filings", "audit_records", "audit_digests")


def _held_parcel(services: Services, clock: FixedClock) -> str:
    """A consumer-collected parcel: assessed, decided, arrived and held for payment."""
    filer = Filer(services.operators.ensure("Shop", "platform"), "Shop", "platform")
    doc = make_filing(collection={"model": "consumer"})
    [result] = services.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert result.consignment_id is not None, result.problems
    clock.advance(timedelta(hours=2))
    [answer] = services.clearance.arrive([doc["transport_document"]], "post:Post", "X")
    assert answer.answer == "hold"
    return result.consignment_id


def _as_owner(services: Services, sql: str, **params: object) -> None:
    """Tamper as someone with the database owner's rights, who can get past the triggers."""
    with services.engine.begin() as conn:
        _triggers_off(conn)
        conn.execute(text(sql), params)


def _triggers_off(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        for table in APPEND_ONLY:
            for what in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{what}"))


TAMPERING: dict[str, tuple[str, str, str]] = {
    # name: (SQL, the break kind verify reports, words in its description)
    "event actor edited": (
        "UPDATE events SET actor = 'officer:nobody' WHERE consignment_id = :cid AND kind = 'hold'",
        "event",
        "changed",
    ),
    "hold event deleted": (
        "DELETE FROM events WHERE consignment_id = :cid AND kind = 'hold'",
        "event",
        "",
    ),
    "event inserted": (
        "INSERT INTO events (consignment_id, kind, at, actor) "
        "SELECT consignment_id, 'release', at, 'officer:x' FROM events "
        "WHERE consignment_id = :cid AND kind = 'hold'",
        "event",
        "inserted",
    ),
    "filing body edited": (
        "UPDATE filings SET body = replace(body, 'Anna', 'Anne') WHERE consignment_id = :cid",
        "filing",
        "changed",
    ),
    "decision edited": (
        "UPDATE consignments SET decision = replace(decision, 'green', 'blue') WHERE id = :cid",
        "decision",
        "changed",
    ),
    "assessment edited": (
        "UPDATE consignments SET assessment = replace(assessment, '\"total\"', '\"totl\"') "
        "WHERE id = :cid",
        "assessment",
        "changed",
    ),
    "audit record edited": (
        "UPDATE audit_records SET content = replace(content, 'Post', 'Pest') "
        "WHERE consignment_id = :cid AND kind = 'event'",
        "record",
        "content was changed",
    ),
    "audit record deleted": (
        "DELETE FROM audit_records WHERE seq = (SELECT min(seq) FROM audit_records "
        "WHERE consignment_id = :cid AND kind = 'event')",
        "record",
        "link",
    ),
}


def test_an_untouched_record_verifies(services: Services, clock: FixedClock) -> None:
    cid = _held_parcel(services, clock)
    report = record_view.verify(services.engine)
    assert report.ok, report.breaks
    assert report.consignments == 1 and report.records >= 6  # filing, events, assessment…
    kinds = {
        row[0]
        for row in services.engine.connect().execute(
            text("SELECT DISTINCT kind FROM audit_records WHERE consignment_id = :c"), {"c": cid}
        )
    }
    assert kinds == {"filing", "event", "document", "assessment", "decision"}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_verify_names_each_kind_of_tampering(
    services: Services, clock: FixedClock, name: str
) -> None:
    cid = _held_parcel(services, clock)
    other = _held_parcel_two(services, clock)
    sql, kind, words = TAMPERING[name]
    _as_owner(services, sql, cid=cid)
    report = record_view.verify(services.engine)
    assert [b.consignment_id for b in report.breaks] == [cid], report.breaks
    [broken] = report.breaks
    assert broken.kind == kind and words in broken.what, broken
    assert other not in str(report.breaks)


def _held_parcel_two(services: Services, clock: FixedClock) -> str:
    filer = Filer(services.operators.ensure("Shop", "platform"), "Shop", "platform")
    doc = make_filing(filer_reference="ORD-2", transport_document="RR123456785CN")
    [result] = services.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert result.consignment_id is not None, result.problems
    return result.consignment_id


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_update_and_delete_are_refused(services: Services, clock: FixedClock, table: str) -> None:
    _held_parcel(services, clock)
    audit.digest(services.engine, clock.now().date(), clock.now())
    column = {"events": "actor", "filings": "role", "audit_records": "kind"}.get(table, "root")
    for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), services.engine.begin() as conn:
            conn.execute(text(sql))
    if services.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), services.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert record_view.verify(services.engine).ok


def test_daily_digest_is_stored_exported_and_rechecked(
    services: Services, clock: FixedClock
) -> None:
    cid = _held_parcel(services, clock)
    day = clock.now().date()
    first = audit.digest(services.engine, day, clock.now())
    assert first.chains == 1 and first.records >= 6 and len(first.root) == 64
    assert audit.digest(services.engine, day, clock.now()) == first  # idempotent
    assert audit.stored_digest(services.engine, day) == first
    exported = first.export()
    assert exported["root"] == first.root and exported["day"] == day.isoformat()
    # a whole chain deleted is caught by the day's digest (and by the events left behind)
    _as_owner(services, "DELETE FROM audit_records WHERE consignment_id = :cid", cid=cid)
    report = record_view.verify(services.engine)
    kinds = {b.kind for b in report.breaks}
    assert kinds == {"digest", "record"}, report.breaks


def test_cli_verify_exits_1_naming_the_break(services: Services, clock: FixedClock) -> None:
    cid = _held_parcel(services, clock)
    url = services.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--database", url])
    assert ok.exit_code == 0, ok.output
    day = clock.now().date().isoformat()
    stored = runner.invoke(cli, ["audit", "digest", "--day", day, "--database", url])
    assert stored.exit_code == 0 and '"root"' in stored.output
    shown = runner.invoke(cli, ["audit", "export", "--day", day, "--database", url])
    assert shown.exit_code == 0 and shown.output.strip() == stored.output.strip()
    _as_owner(services, TAMPERING["event actor edited"][0], cid=cid)
    broken = runner.invoke(cli, ["audit", "verify", "--since", day, "--database", url])
    assert broken.exit_code == 1
    assert f"BROKEN {cid} event" in broken.output


Tamper = Callable[[Services, str], None]


@pytest.mark.parametrize("name", ["event actor edited", "decision edited"])
def test_the_api_says_when_a_consignment_was_changed_behind_it(
    services: Services, clock: FixedClock, client: TestClient, name: str
) -> None:
    cid = _held_parcel(services, clock)
    officer = key(services, "Border Office", "officer")
    before = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    assert before["record_intact"] is True and "record_break" not in before
    sql, kind, _ = TAMPERING[name]
    _as_owner(services, sql, cid=cid)
    after = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    assert after["record_intact"] is False and after["record_break"].startswith(kind), after


def test_the_officer_page_warns_when_a_consignment_was_changed_behind_it(
    services: Services, clock: FixedClock, client: TestClient
) -> None:
    cid = _held_parcel(services, clock)
    login(client, WebStore(services.engine, services.clock), "ana.officer", "officer")
    assert 'id="record-break"' not in client.get(f"/officer/consignments/{cid}").text
    sql, _, _ = TAMPERING["event actor edited"]
    _as_owner(services, sql, cid=cid)
    page = client.get(f"/officer/consignments/{cid}").text
    assert 'id="record-break"' in page and "tamper-evident record" in page


def test_a_consignment_without_a_record_is_not_called_intact(
    services: Services, clock: FixedClock, client: TestClient
) -> None:
    cid = _held_parcel(services, clock)
    _as_owner(services, "DELETE FROM audit_records WHERE consignment_id = :cid", cid=cid)
    body = client.get(f"/v1/consignments/{cid}", headers=key(services, "B", "officer")).json()
    assert "record_intact" not in body  # unknown: nothing to check it against, never "true"
    assert not record_view.verify(services.engine).ok  # the full check still names the lost chain
