"""A small stored day of traffic with arrivals, inspections, agency holds and payments."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from clearway.clearance.handlers import ActionRequest
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.kernel.clock import FixedClock
from clearway.simulation.generator import TrafficGenerator
from clearway.storage.export import export
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

OFFICES = ("OFFICE-A", "OFFICE-B")


@dataclass
class Traffic:
    services: Services
    parcels: int
    inspected: dict[str, bool]  # consignment id -> found
    agency_held: list[str]


def populate(services: Services, clock: FixedClock, parcels: int = 120, seed: int = 3) -> Traffic:
    """File a generated day, present it at two offices, and work the held parcels: inspect
    (alternately found / not found), an agency hold on two of them, pay what is due, release."""
    by_platform: dict[str, list[Submission]] = {}
    for p in TrafficGenerator(seed).parcels(parcels):
        for f in p.filings:
            name = f.get("platform", {}).get("name") or "Carrier Data Ltd"
            by_platform.setdefault(name, []).append(Submission(from_builtins(f)))
    for name, subs in sorted(by_platform.items()):
        filer = Filer(services.operators.ensure(name, "platform"), name, "platform")
        services.pipeline.process(filer, subs)
    clock.advance(timedelta(hours=6))
    heads = services.store.counts("transport_document")
    tds = sorted(heads)
    half = len(tds) // 2
    for office, batch in ((OFFICES[0], tds[:half]), (OFFICES[1], tds[half:])):
        services.clearance.arrive(batch, "carrier:Border Express", office)
        clock.advance(timedelta(minutes=30))
    cons = services.store.load_many(
        [h.id for h in services.store.heads_by_transport_document(tds).values()]
    )
    held = sorted((c for c in cons.values() if c.status == "held"), key=lambda c: c.id)
    inspected: dict[str, bool] = {}
    agency: list[str] = []
    for n, c in enumerate(held):
        clock.advance(timedelta(minutes=7 * (n % 5 + 1)))
        if n < 2:
            services.clearance.act(
                c.id, ActionRequest("hold", "agency:PHYTO", "plant health", authority="PHYTO")
            )
            clock.advance(timedelta(hours=2 + n))
            services.clearance.act(
                c.id, ActionRequest("lift_hold", "agency:PHYTO", "cleared", authority="PHYTO")
            )
            agency.append(c.id)
        if c.decision is not None and c.decision.lane in ("yellow", "red"):
            found = n % 2 == 0
            services.clearance.act(
                c.id, ActionRequest("record_inspection", "officer:Ann", found=found)
            )
            inspected[c.id] = found
        current = services.store.load(c.id)
        assert current is not None and current.assessment is not None
        if current.payment_status == "due":
            a = current.assessment
            services.clearance.record_payment(
                c.id, a.due_at_border, a.currency, f"PAY-{n}", "payment_provider:Pay"
            )
        for hold in services.store.open_holds([c.id]).get(c.id, []):
            if hold.authority != "customs":  # a routed agency waited for at arrival clears it
                services.clearance.act(
                    c.id,
                    ActionRequest(
                        "clear", f"agency:{hold.authority}", "cleared", authority=hold.authority
                    ),
                )
        current = services.store.load(c.id)
        assert current is not None
        if current.status != "released" and n % 7 != 3:  # a few stay at the border
            services.clearance.act(c.id, ActionRequest("release", "officer:Ann", "cleared"))
    return Traffic(services, parcels, inspected, agency)


@pytest.fixture
def traffic_services(db_url: str, clock: FixedClock) -> Iterator[Services]:
    svc = build(Settings(database_url=db_url, sample_rate=0.2), clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def traffic(traffic_services: Services, clock: FixedClock) -> Traffic:
    return populate(traffic_services, clock)


@pytest.fixture
def sqlite_traffic(sqlite_url: str, clock: FixedClock) -> Iterator[Traffic]:
    """The same day on SQLite only, for tests whose subject is not the storage backend."""
    svc = build(Settings(database_url=sqlite_url, sample_rate=0.2), clock=clock)
    yield populate(svc, clock)
    svc.close()


@pytest.fixture
def snapshot_dir(traffic: Traffic, tmp_path: Path) -> Path:
    out = tmp_path / "snapshot"
    export(traffic.services.engine, out)
    return out


def money(text: str | None) -> Decimal:
    return Decimal(text) if text is not None else Decimal(0)
