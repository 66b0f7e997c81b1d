"""Property-based API testing from the OpenAPI schema: no input may cause a server error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clearway.api.app import create_app
from clearway.wiring.services import build
from clearway.wiring.settings import Settings

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
