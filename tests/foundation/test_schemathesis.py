"""Property-based API testing from the OpenAPI schema: no input may cause a server error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clearway.api.app import create_app
from clearway.wiring.services import build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing

_DB = Path(tempfile.mkdtemp(prefix="clearway-st-")) / "st.sqlite"
_SERVICES = build(Settings(database_url=f"sqlite:///{_DB}", sample_rate=0.0))
_KEY = _SERVICES.operators.create_key("Fuzz Platform", "admin")
app = create_app(_SERVICES)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_causes_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_KEY}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


_CLIENT = TestClient(app, raise_server_exceptions=False)
_NUMBERS = st.one_of(
    st.sampled_from(["NaN", "sNaN", "-Infinity", "1e9999", "-0", "1e-50", "0.000000001"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=12),
)


@given(value=_NUMBERS, mass=_NUMBERS, cost=_NUMBERS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_number_in_a_filing_is_an_answer_not_a_crash(value: str, mass: str, cost: str) -> None:
    doc = make_filing(transport_cost=cost)
    doc["items"][0]["value"] = value
    doc["items"][0]["net_mass_kg"] = mass
    for path in ("/v1/filings", "/v1/quotes"):
        resp = _CLIENT.post(path, json=doc, headers={"Authorization": f"Bearer {_KEY}"})
        assert resp.status_code < 500, resp.text
