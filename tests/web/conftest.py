"""Web fixtures: the real app on a real database, parcels filed through the real pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.kernel.codes import make_s10
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.conftest import make_filing

PASSWORD = "correct horse battery"


def file_parcel(
    svc: Services, n: int, items: list[tuple[str, str]], office: str = "DE-HUB-1"
) -> str:
    """File one parcel through the pipeline; returns its consignment id."""
    filer = Filer(svc.operators.ensure("Deutsche Post", "post"), "Deutsche Post", "post")
    lines = [
        {
            "description": d,
            "hs_code": hs,
            "quantity": 1,
            "value": "20.00",
            "origin_country": "CN",
            "net_mass_kg": "0.3",
        }
        for d, hs in items
    ]
    total = f"{20 * len(lines)}.00"
    doc = make_filing(
        transport_document=make_s10("LX", 20_000_000 + n, "CN"),
        filer_reference=f"REF-{n}",
        office=office,
        items=lines,
        order={"id": f"O-{n}", "total": total},
        payment={"id": f"P-{n}", "amount": total, "currency": "EUR", "payer_name": "Anna Müller"},
    )
    [result] = svc.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert result.consignment_id is not None, result
    return result.consignment_id


def arrive(svc: Services, consignment_id: str, office: str = "DE-HUB-1") -> str:
    c = svc.store.load(consignment_id)
    assert c is not None
    [answer] = svc.clearance.arrive([c.transport_document], "post:Deutsche Post", office)
    return answer.answer


PEPPER = ("Pepper spray 50 ml", "330790")  # red lane (offensive weapons profile)
HONEY = ("Wildflower honey 500 g", "040900")  # routed to the food safety agency
SHIRT = ("Cotton T-shirt", "610910")  # green lane, routed nowhere


@pytest.fixture
def web(services: Services) -> WebStore:
    return WebStore(services.engine, services.clock)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def csrf(client: TestClient) -> str:
    if not client.cookies.get("cw_csrf"):
        client.get("/login")
    token = client.cookies.get("cw_csrf")
    assert token
    return str(token)


def login(
    client: TestClient, web: WebStore, username: str, role: str, agency: str | None = None
) -> None:
    web.create_user(username, PASSWORD, role, agency)
    r = client.post(
        "/login",
        data={"csrf": csrf(client), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def status_on_page(html: str) -> str:
    found = re.search(r'<strong id="status" data-status="(\w+)"', html)
    assert found, "no status on the page"
    return found.group(1)


def form(client: TestClient, **fields: Any) -> dict[str, Any]:
    return {"csrf": csrf(client), **fields}


@pytest.fixture
def public_client(sqlite_services: Services) -> Iterator[TestClient]:
    """Pages that do not depend on the database backend run on SQLite only."""
    with TestClient(create_app(sqlite_services)) as c:
        yield c
