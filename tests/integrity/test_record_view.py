"""What is served comes from the record: a projection column of the `consignments` row edited
in the database (SQLite and PostgreSQL) changes nothing the API or the officer's page says, the
answer names the break, and `audit rebuild` puts the row back from the records."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from clearway.cli.main import app as cli
from clearway.domain.filing import Party
from clearway.kernel.clock import FixedClock
from clearway.simulation.formats import cn_legs
from clearway.storage import record_view
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.integrity.conftest import key
from tests.integrity.test_audit_chain import _as_owner, _held_parcel
from tests.matching.test_matching import CARRIER, cn_filing
from tests.security.test_joining import _json, _xml
from tests.web.conftest import login

Row = dict[str, Any]


def _other_lane(row: Row) -> Row:
    return {"lane": "red" if row["lane"] != "red" else "green"}


def _lane_in_decision(row: Row) -> Row:
    decision = json.loads(row["decision"])
    decision["lane"] = "red" if decision["lane"] != "red" else "green"
    return {"decision": json.dumps(decision), "lane": decision["lane"]}


def _assessment_amount(row: Row) -> Row:
    a = json.loads(row["assessment"])
    a["total"] = str(Decimal(str(a["total"])) + 100)
    return {"assessment": json.dumps(a), "assessed_total": a["total"], "due_at_border": a["total"]}


def _document_consignee(row: Row) -> Row:
    return {"document": row["document"].replace("Anna Müller", "Anne Miller")}


# name: (columns to write, given the row; the kind of break named; the served field to compare)
PROJECTION: dict[str, tuple[Callable[[Row], Row], str]] = {
    "lane column": (_other_lane, "decision"),
    "lane inside the decision": (_lane_in_decision, "decision"),
    "assessment amount": (_assessment_amount, "assessment"),
    "amount due column only": (lambda row: {"due_at_border": "0.00"}, "assessment"),
    "status": (lambda row: {"status": "released"}, "status"),
    "payment status": (lambda row: {"payment_status": "paid"}, "status"),
    "consignee in the document": (_document_consignee, "document"),
    "version": (lambda row: {"version": row["version"] + 5}, "document"),
}


def _row(services: Services, cid: str) -> Row:
    with services.engine.connect() as conn:
        found = conn.execute(text("SELECT * FROM consignments WHERE id = :c"), {"c": cid})
        return dict(found.mappings().one())


def _tamper(services: Services, cid: str, change: Callable[[Row], Row]) -> Row:
    values = change(_row(services, cid))
    sets = ", ".join(f"{column} = :{column}" for column in values)
    _as_owner(services, f"UPDATE consignments SET {sets} WHERE id = :cid", cid=cid, **values)
    return values


def _served(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("record_intact", "record_break")}


@pytest.mark.parametrize("name", list(PROJECTION))
def test_the_api_serves_the_record_not_an_edited_row(
    services: Services, clock: FixedClock, client: TestClient, name: str
) -> None:
    cid = _held_parcel(services, clock)
    officer = key(services, "Border Office", "officer")
    before = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    assert before["record_intact"] is True, before
    change, kind = PROJECTION[name]
    written = _tamper(services, cid, change)
    assert all(_row(services, cid)[k] == v for k, v in written.items())  # the edit took

    after = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    assert _served(after) == _served(before)  # status, lane, amounts, document: as recorded
    assert after["record_intact"] is False
    assert after["record_break"].startswith(f"{kind} consignment row ("), after["record_break"]
    report = record_view.verify(services.engine)
    assert [(b.consignment_id, b.kind) for b in report.breaks] == [(cid, kind)]

    # the row is rebuilt from the records: nothing differs any more
    [rebuilt] = record_view.rebuild(services.engine)
    assert rebuilt.consignment_id == cid and rebuilt.done, rebuilt
    assert set(written) <= set(rebuilt.columns)
    again = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    assert again == before
    assert record_view.verify(services.engine).ok
    assert record_view.rebuild(services.engine) == []


def test_the_officer_page_shows_the_recorded_status_and_lane(
    services: Services, clock: FixedClock, client: TestClient
) -> None:
    cid = _held_parcel(services, clock)
    login(client, WebStore(services.engine, services.clock), "ana.officer", "officer")
    page = client.get(f"/officer/consignments/{cid}").text
    assert 'id="record-break"' not in page and 'value="release"' not in page
    # someone marks the held parcel released and re-routes it in the table
    _tamper(services, cid, lambda row: {"status": "released", **_other_lane(row)})
    page = client.get(f"/officer/consignments/{cid}").text
    assert 'id="record-break"' in page and "status" in page
    served = record_view.load(services.engine, cid)
    assert served is not None and served.consignment.status == "held"
    assert served.differs == ["lane", "status"]


def test_a_payment_providers_view_serves_the_recorded_amount_and_status(
    services: Services, client: TestClient
) -> None:
    platform = key(services, "Bazaar Direct", "platform")
    doc = cn_filing(collection={"model": "consumer"})  # the consignee pays at the border
    assert doc.payment is not None
    named = msgspec.structs.replace(
        doc, payment=msgspec.structs.replace(doc.payment, provider=Party(name="Alipay"))
    )
    cid = _json(client, platform, named).json()["consignment_id"]
    alipay = key(services, "Alipay", "payment_provider")
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    assert _xml(client, alipay, legs.payment)["consignment_id"] == cid
    before = client.get(f"/v1/consignments/{cid}", headers=alipay).json()
    assert before["view"] == "payment" and Decimal(before["amount_due"]) > 0, before

    _tamper(services, cid, lambda row: {**_assessment_amount(row), "status": "released"})
    assert client.get(f"/v1/consignments/{cid}", headers=alipay).json() == before
    # the declarant is told the row differs; the party's view names no break (it is not told
    # about the assessment) but shows the recorded amount and status all the same
    full = client.get(f"/v1/consignments/{cid}", headers=platform).json()
    assert full["record_intact"] is False and full["status"] == before["status"]


def test_a_whole_lifecycle_projects_exactly_its_row(services: Services, clock: FixedClock) -> None:
    """Arrival, hold for payment, payment and release: the row the writer stored is exactly
    what the records project to (no false break), and the recorded times match."""
    cid = _held_parcel(services, clock)
    c = services.store.load(cid)
    assert c is not None and c.assessment is not None and c.payment_status == "due"
    clock.advance(timedelta(minutes=30))
    services.clearance.record_payment(
        cid, c.assessment.due_at_border, c.assessment.currency, "PAY-1", "post:Post"
    )
    stored = services.store.load(cid)
    served = record_view.load(services.engine, cid)
    assert served is not None and served.intact is True and served.differs == []
    assert stored is not None and stored.status == served.consignment.status
    assert (stored.payment_status, stored.arrived_at, stored.closed_at) == (
        served.consignment.payment_status,
        served.consignment.arrived_at,
        served.consignment.closed_at,
    )
    assert [e.kind for e in served.events] == [e.kind for e in services.store.events_of(cid)]
    assert record_view.verify(services.engine).ok


def test_cli_rebuild_lists_then_rewrites(services: Services, clock: FixedClock) -> None:
    cid = _held_parcel(services, clock)
    _tamper(services, cid, lambda row: {"status": "released"})
    url = services.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    listed = runner.invoke(cli, ["audit", "rebuild", "--dry-run", "--database", url])
    assert listed.exit_code == 0 and f"DIFFERS {cid}: status" in listed.output, listed.output
    assert _row(services, cid)["status"] == "released"  # a dry run writes nothing
    done = runner.invoke(cli, ["audit", "rebuild", "--database", url])
    assert done.exit_code == 0 and f"REBUILT {cid}: status" in done.output, done.output
    assert _row(services, cid)["status"] == "held"
    assert runner.invoke(cli, ["audit", "verify", "--database", url]).exit_code == 0


def test_rebuild_leaves_a_row_whose_chain_is_unsound(services: Services, clock: FixedClock) -> None:
    cid = _held_parcel(services, clock)
    _tamper(services, cid, lambda row: {"status": "released"})
    _as_owner(
        services,
        "UPDATE audit_records SET content = replace(content, 'Post', 'Pest') "
        "WHERE consignment_id = :cid AND kind = 'event'",
        cid=cid,
    )
    [left] = record_view.rebuild(services.engine)
    assert not left.done and "content was changed" in left.why_not
    assert _row(services, cid)["status"] == "released"
