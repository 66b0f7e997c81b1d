"""Fixtures for the attack tests: an app over a real database, keys per role, two operators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.kernel.clock import FixedClock
from clearway.wiring.services import Services, build
from clearway.wiring.settings import SecuritySettings, Settings


def key(services: Services, operator: str, role: str, *grants: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.operators.create_key(operator, role, grants)}"}


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def app_with(url: str, clock: FixedClock, **security: object) -> tuple[TestClient, Services]:
    """An app whose security settings differ from the defaults (limits, proxies, metrics)."""
    svc = build(
        Settings(database_url=url, sample_rate=0.0, security=SecuritySettings(**security)),  # type: ignore[arg-type]
        clock=clock,
    )
    return TestClient(create_app(svc)), svc
