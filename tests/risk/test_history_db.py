"""The database-backed risk history on SQLite and PostgreSQL: same-day totals for split shipments,
entity counts and inspection outcomes, reference prices, and the pipeline deciding with them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from tests.conftest import make_filing

from clearway.clearance.handlers import ActionRequest
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import Party, from_builtins
from clearway.kernel.codes import make_s10
from clearway.risk.columns import identity_key, party_key
from clearway.risk.history import SameDayKey
from clearway.risk.selector import RiskSelector
from clearway.storage.history import SqlHistory, id_floor
from clearway.storage.repository import _party_key
from clearway.wiring.services import Services

DAY = date(2026, 11, 2)
ANNA = identity_key(from_builtins(make_filing()).consignee)
SELLER = identity_key(from_builtins(make_filing()).seller)


def _parcel(n: int, value: str, **overrides: Any) -> dict[str, Any]:
    return make_filing(
        filer_reference=f"ORD-{n}",
        transport_document=make_s10("LX", 10_000 + n, "CN"),
        data_set="full",  # some are over EUR 150: no reduced data set (revenue/eligibility.py)
        order={"id": f"O-{n}", "total": value},
        payment={"id": f"P-{n}", "amount": value, "currency": "EUR", "payer_name": "Anna Müller"},
        items=[
            {"description": "Over-ear headphones", "hs_code": "851830", "quantity": 1,
             "value": value, "origin_country": "CN", "net_mass_kg": "0.30"},
        ],
        **overrides,
    )  # fmt: skip


def _file(services: Services, *docs: dict[str, Any]) -> list[FilingResult]:
    operator = services.operators.ensure("Mercato Global", "platform")
    filer = Filer(operator, "Mercato Global", "platform")
    return services.pipeline.process(filer, [Submission(from_builtins(d)) for d in docs])


def _history(services: Services) -> SqlHistory:
    selector = services.selector
    assert isinstance(selector, RiskSelector) and isinstance(selector.history, SqlHistory)
    return selector.history


def _codes(result: FilingResult) -> set[str]:
    assert result.decision is not None
    return {r.code for r in result.decision.reasons}


def test_risk_keys_match_the_stored_keys() -> None:
    """Split-shipment lookups go through the storage's (consignee_key, legal_date) index."""
    for party in (
        Party(name="  Anna   Müller ", postcode="10 115", country="de"),
        Party(name="Wei Chen", country="CN"),
        Party(name="O'Brien & Sons Ltd", postcode="D02 X285", country="IE"),
    ):
        assert identity_key(party) == _party_key(party.name, party.postcode, party.country)


def test_split_shipment_across_batches_and_within_one(services: Services) -> None:
    first = _file(services, _parcel(1, "100.00"))[0]
    assert "FIS-SPLIT-SHIPMENT" not in _codes(first)

    history = _history(services)
    before = history.queries
    key = SameDayKey(ANNA, SELLER, DAY)
    totals = history.same_day_totals([key, SameDayKey(ANNA, SELLER, date(2026, 11, 3))])
    assert history.queries - before == 1  # one indexed query for the batch's keys
    assert totals[key].consignments == 1 and totals[key].value == pytest.approx(100.0)
    assert history.same_day_totals([key], exclude=[str(first.consignment_id)]) == {}

    second = _file(services, _parcel(2, "90.00"))[0]  # 190 EUR in two parcels of one day
    assert second.decision is not None and second.decision.lane == "yellow"
    assert "FIS-SPLIT-SHIPMENT" in _codes(second)

    # an amendment of the first parcel is not counted against itself
    amended = _file(services, {**_parcel(1, "100.00"), "transport_cost": "5.00"})[0]
    assert amended.outcome == "amended"
    assert "FIS-SPLIT-SHIPMENT" in _codes(amended)  # the second parcel is still there

    # another consignee of the same name elsewhere, a parcel over the threshold: no hit
    elsewhere = {"name": "Anna Müller", "address": "Ring 1", "city": "Köln", "postcode": "50667",
                 "country": "DE"}  # fmt: skip
    big = _file(services, _parcel(3, "95.00", consignee=elsewhere), _parcel(4, "160.00"))
    assert "FIS-SPLIT-SHIPMENT" not in _codes(big[0])
    assert "FIS-SPLIT-SHIPMENT" not in _codes(big[1])

    # two parcels in one batch are seen together, the first one included
    pair = _file(
        services,
        _parcel(5, "80.00", consignee=elsewhere),
        _parcel(6, "85.00", consignee=elsewhere),
    )
    assert all("FIS-SPLIT-SHIPMENT" in _codes(r) for r in pair)


def test_entity_counts_inspections_and_reference_prices(services: Services) -> None:
    results = _file(services, *(_parcel(10 + i, f"{40 + i}.00") for i in range(6)))
    history = _history(services)
    history.refresh(force=True)
    seller = party_key(from_builtins(make_filing()).seller)
    stats = history.entity_stats("seller", [seller, "NOBODY"])
    assert set(stats) == {seller}
    assert (stats[seller].seen, stats[seller].inspected) == (6, 0)
    assert history.reference_unit_prices(["851830", "610910"], "EUR") == {
        "851830": pytest.approx(42.5)  # median of 40..45
    }
    assert history.reference_unit_prices(["851830"], "GBP") == {}

    officer = "officer:Test"
    for r, found in zip(results[:3], (True, False, True), strict=True):
        cid = str(r.consignment_id)
        services.clearance.act(cid, ActionRequest("hold", officer, reason="check"))
        services.clearance.act(cid, ActionRequest("record_inspection", officer, found=found))
    history.refresh(force=True)
    stats = history.entity_stats("seller", [seller])
    assert (stats[seller].seen, stats[seller].inspected, stats[seller].irregular) == (6, 3, 2)
    queries = history.queries
    history.refresh()  # within max_age: nothing is read again
    history.refresh(force=True)  # nothing new: listed, not counted twice
    assert history.entity_stats("seller", [seller])[seller].seen == 6
    # per table: the ids from the newest millisecond on, and a count of the trailing window
    assert history.queries - queries == 4


def test_undervaluation_against_history_prices(sqlite_services: Services) -> None:
    _file(sqlite_services, *(_parcel(20 + i, f"{100 + 5 * i}.00") for i in range(8)))
    _history(sqlite_services).refresh(force=True)
    cheap, fair = _file(sqlite_services, _parcel(40, "14.00", consignee={
        "name": "Jonas Weber", "address": "Ring 2", "city": "Bonn", "postcode": "53111",
        "country": "DE"}), _parcel(41, "95.00"))  # fmt: skip
    assert {"FIS-UNDERVALUED-REF", "FIS-UNDERVALUED-SEVERE"} <= _codes(cheap)
    assert "FIS-UNDERVALUED-REF" not in _codes(fair)


def test_id_floor_orders_before_every_id_of_its_millisecond() -> None:
    from clearway.kernel.ids import new_id
    from clearway.storage.history import _id_ms

    made = new_id("cns")
    ms = _id_ms(made)
    assert id_floor("cns", ms) <= made < id_floor("cns", ms + 1)
