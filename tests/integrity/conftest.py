"""Fixtures for the integrity tests: an app over a real database with keys per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.wiring.services import Services


def key(services: Services, operator: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.operators.create_key(operator, role, ())}"}


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app = create_app(services)
    for buckets in app.state.rate_limits:
        buckets.rate = 0  # many calls from one address: no rate limit here
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
