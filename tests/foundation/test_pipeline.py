"""The filing pipeline against real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from clearway.clearance.handlers import ActionRequest
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.kernel.clock import FixedClock
from clearway.storage import tables as t
from clearway.wiring.services import Services
from tests.conftest import make_filing


def _filer(svc: Services, name: str = "Mercato Global", role: str = "platform") -> Filer:
    return Filer(svc.operators.ensure(name, role), name, role)


def _file(svc: Services, filer: Filer, **overrides: object) -> object:
    [r] = svc.pipeline.process(filer, [Submission(from_builtins(make_filing(**overrides)))])
    return r


def _count(svc: Services, table: object) -> int:
    with svc.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_filing_is_assessed_decided_and_stored_with_its_events(services: Services) -> None:
    r = _file(services, _filer(services))
    assert r.outcome == "accepted" and r.status == "decided"
    assert r.decision is not None and r.decision.lane in ("green", "yellow", "red", "blue")
    c = services.store.load(r.consignment_id)
    assert c is not None and c.assessment is not None
    assert c.assessment.currency == "EUR" and c.assessment.trace
    kinds = [e.kind for e in services.store.events_of(c.id)]
    assert kinds[:3] == ["file", "assess", "decide"]


def test_the_same_filing_twice_is_one_consignment(services: Services) -> None:
    filer = _filer(services)
    first = _file(services, filer)
    again = _file(services, filer)
    assert again.outcome == "duplicate" and again.consignment_id == first.consignment_id
    assert _count(services, t.consignments) == 1 and _count(services, t.filings) == 1


def test_a_changed_body_before_arrival_is_an_amendment(services: Services) -> None:
    filer = _filer(services)
    first = _file(services, filer)
    changed = make_filing()
    changed["items"][1]["value"] = "11.00"
    [r] = services.pipeline.process(filer, [Submission(from_builtins(changed))])
    assert (r.outcome, r.version, r.consignment_id) == ("amended", 2, first.consignment_id)
    c = services.store.load(r.consignment_id)
    assert c is not None and c.document.items[1].value == 11 and c.status == "decided"
    assert "amend" in [e.kind for e in services.store.events_of(c.id)]


def test_amending_after_release_is_a_conflict(services: Services) -> None:
    filer = _filer(services)
    first = _file(services, filer)
    services.clearance.arrive(["LX123456785CN"], "officer:x")
    c = services.store.load(first.consignment_id)
    assert c is not None
    if c.status != "released":
        services.clearance.act(c.id, ActionRequest("release", "officer:x", "checked"))
    r = _file(services, filer, transport_cost="9.99")
    assert r.outcome == "conflict" and r.problems[0].code == "amendment_refused"


def test_bad_filings_in_a_batch_are_rejected_and_the_rest_accepted(services: Services) -> None:
    good = make_filing()
    bad = make_filing(filer_reference="ORD-2", transport_document="LX123456784CN")
    results = services.pipeline.process(
        _filer(services), [Submission(from_builtins(good)), Submission(from_builtins(bad))]
    )
    assert [r.outcome for r in results] == ["accepted", "rejected"]
    assert results[1].problems[0].path == "/transport_document"


def test_pre_loading_data_gets_a_referral_then_the_full_data_a_lane(services: Services) -> None:
    carrier = _filer(services, "Swift Air Express", "carrier")
    pre = make_filing(
        filer_reference="PLACI-1",
        data_set="pre_loading",
        mode="express",
        transport_document="1234567890",
        items=[{"description": "Plastic phone case", "hs_code": "392690", "quantity": 2}],
    )
    [r] = services.pipeline.process(carrier, [Submission(from_builtins(pre))])
    assert r.status == "referred" and r.decision is not None
    assert r.decision.referral == "assessment_complete" and r.decision.lane is None
    platform = _filer(services)
    [full] = services.pipeline.process(
        platform,
        [Submission(from_builtins(make_filing(mode="express", transport_document="1234567890")))],
    )
    assert full.consignment_id == r.consignment_id
    assert full.status == "decided" and full.decision is not None and full.decision.lane


def test_arrival_releases_green_and_holds_with_reasons(
    services: Services, clock: FixedClock
) -> None:
    r = _file(services, _filer(services))
    clock.advance(timedelta(hours=30))
    [a] = services.clearance.arrive(["LX123456785CN"], "post:DHL")
    c = services.store.load(r.consignment_id)
    assert c is not None
    if c.decision and c.decision.lane in ("green", "blue") and c.payment_status != "due":
        assert (a.answer, a.status) == ("release", "released")
    else:
        assert a.answer == "hold" and a.reasons
    [unknown] = services.clearance.arrive(["RR473124829GB"], "post:DHL")
    assert unknown.answer == "unknown"


def test_consumer_collection_waits_for_payment(services: Services) -> None:
    # EUR 160 of trainers: above the EUR 150 IOSS ceiling, so the consignee pays at the border.
    items = [
        {
            "description": "Sports shoes with textile uppers",
            "hs_code": "640411",
            "quantity": 1,
            "value": "160.00",
            "origin_country": "CN",
            "net_mass_kg": "0.8",
        }
    ]
    r = _file(
        services,
        _filer(services),
        items=items,
        data_set="full",
        order={"id": "O", "total": "164.50"},
        payment={"id": "P", "amount": "164.50"},
    )
    c = services.store.load(r.consignment_id)
    assert c is not None and c.assessment is not None
    assert c.payment_status == "due" and c.assessment.due_at_border > 0
    [a] = services.clearance.arrive([c.transport_document], "officer:x")
    assert a.answer == "hold"
    assert any("awaiting payment" in why for why in a.reasons)
    if c.decision and c.decision.lane in ("green", "blue"):
        paid = services.clearance.record_payment(
            c.id, c.assessment.due_at_border, c.assessment.currency, "PAY-1", "payment:x"
        )
        assert paid.status == "released" and paid.payment_status == "paid"


def test_concurrent_resubmission_stores_one_filing(services: Services) -> None:
    filer = _filer(services)
    errors: list[BaseException] = []
    outcomes: list[str] = []

    def submit() -> None:
        try:
            [r] = services.pipeline.process(filer, [Submission(from_builtins(make_filing()))])
            outcomes.append(r.outcome)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(outcomes) == ["accepted"] + ["duplicate"] * 7
    assert _count(services, t.consignments) == 1 and _count(services, t.filings) == 1


def test_notices_reach_the_filer(services: Services) -> None:
    filer = _filer(services)
    r = _file(services, filer)
    [(cursor, notice)] = services.store.notices_after(filer.operator_id, 0, 10)
    assert notice["consignment_id"] == r.consignment_id and notice["kind"] == "decision"
    assert services.store.notices_after(filer.operator_id, cursor, 10) == []
    other = _filer(services, "Someone Else")
    assert services.store.notices_after(other.operator_id, 0, 10) == []


def test_a_parcel_that_cannot_be_assessed_waits_for_an_officer(services: Services) -> None:
    # The ECB publishes no rate for the UAE dirham: the calculator cannot convert the value.
    items = [
        {
            "description": "Gold wristwatch",
            "hs_code": "910111",
            "quantity": 1,
            "value": "90000.00",
            "origin_country": "AE",
            "net_mass_kg": "0.2",
        }
    ]
    r = _file(
        services,
        _filer(services),
        currency="AED",
        data_set="full",
        items=items,
        order=None,
        payment=None,
        collection={"model": "consumer"},
    )
    assert r.decision is not None and r.decision.lane in ("yellow", "red")
    assert "manual_assessment_required" in {x.code for x in r.decision.reasons}
    [arrival] = services.clearance.arrive(["LX123456785CN"], "officer:x")
    assert arrival.answer == "hold"
    assert any("manual assessment" in why for why in arrival.reasons)
