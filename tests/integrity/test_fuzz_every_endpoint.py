"""Hostile values on every API operation and every page form, against a real uvicorn server.

Generators: nesting deeper than any document, huge and tiny exponents, other scripts' digits,
extreme dates, control and direction characters, duplicate keys, absurd integers. Each value is
put at a random place of a valid request (or sent as the whole body). Every answer must be below
500, an API refusal must be an RFC 9457 problem document, and the keep-alive connection must
still serve the next request: `http.client` never reconnects on its own, so a connection the
server dropped fails the test.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearway.api.app import create_app
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing

PASSWORD = "correct horse battery staple 42"

# ------------------------------------------------------------------ generators
_DIGITS = st.text("0123456789", min_size=1, max_size=12)
HUGE_NUMBERS = st.one_of(
    st.builds(lambda m, e: f"{m}E+{e}", _DIGITS, st.integers(300, 999_999_999)),
    st.builds(lambda m, e: f"{m}e-{e}", _DIGITS, st.integers(300, 999_999_999)),
    st.sampled_from(
        [
            "1E+999999999",
            "-1E+999999999",
            "0E-1000000",
            "1_000",
            "１２",
            "-0",
            "NaN",
            "sNaN",
            "Infinity",
            "-inf",
            "1e5",
            "0x1F",
            " 12",
            "12.",
            ".5",
            "9" * 400,
            "0." + "0" * 300 + "1",
        ]
    ),
)
EXTREME_DATES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "1900-02-29",
            "2026-02-30",
            "0000-00-00",
            "2026-11-02T25:00:00Z",
            "-2026-01-01",
            "20261102",
            "1970-01-01T00:00:00Z",
        ]
    ),
    st.dates().map(lambda d: d.isoformat()),
)
NASTY_TEXT = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=8),
    st.sampled_from(["\x00", "\x1b[31m", "\u202e", "\u2066", "\x9b", "\ud800", "\ufffe", "\x7f"]),
    st.text(max_size=8),
)
SCALARS = st.one_of(
    HUGE_NUMBERS,
    EXTREME_DATES,
    NASTY_TEXT,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)


def deep(levels: int, kind: str) -> str:
    return (
        ("[" * levels + "]" * levels) if kind == "list" else ('{"a":' * levels + "1" + "}" * levels)
    )


DEEP = st.builds(deep, st.integers(33, 5000), st.sampled_from(["list", "dict"]))


# ------------------------------------------------------------------ a live server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    """A real server on a SQLite file, a parcel, an account and signed-in page users."""

    def __init__(self) -> None:
        db = Path(tempfile.mkdtemp(prefix="clearway-fuzz-")) / "fuzz.sqlite"
        self.svc: Services = build(Settings(database_url=f"sqlite:///{db}", sample_rate=0.0))
        app = create_app(self.svc)
        for buckets in app.state.rate_limits:
            buckets.rate = 0
        self.port = _free_port()
        # A long idle keep-alive: on a loaded machine set-up (password hashing) can idle the
        # shared connection past uvicorn's default 5 s; what is tested is hostile input.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="critical", timeout_keep_alive=300
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        self.admin = {"Authorization": f"Bearer {self.svc.operators.create_key('Fuzz', 'admin')}"}
        self.conn = self.connect()
        doc = make_filing(collection={"model": "consumer"})
        filed = self.json("POST", "/v1/filings", doc, self.admin)
        self.consignment = filed["consignment_id"]
        self.account = self.json(
            "POST",
            "/v1/accounts",
            {"operator": "Fuzz", "currency": "EUR", "guarantee": "100"},
            self.admin,
        )["id"]
        self.cookies = {role: self.sign_in(role) for role in ("officer", "agency", "analyst")}

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        conn: http.client.HTTPConnection | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        c = conn or self.conn
        c.request(method, path, body=body, headers=headers or {})
        resp = c.getresponse()
        data = resp.read()
        headers: dict[str, str] = {}
        for k, v in resp.getheaders():  # several Set-Cookie headers are kept, joined
            key = k.lower()
            headers[key] = f"{headers[key]}, {v}" if key in headers else v
        return resp.status, headers, data

    def json(self, method: str, path: str, doc: Any, headers: dict[str, str]) -> Any:
        status, _, data = self.send(
            method, path, json.dumps(doc).encode(), {**headers, "Content-Type": "application/json"}
        )
        assert status < 300, data
        return json.loads(data)

    def sign_in(self, role: str) -> str:
        web = WebStore(self.svc.engine, self.svc.clock)
        web.create_user(f"fuzz-{role}", PASSWORD, role, "food_safety" if role == "agency" else None)
        conn = self.connect()
        _, headers, _ = self.send("GET", "/login", conn=conn)
        token = re.search(r"cw_csrf=([^;]+)", headers.get("set-cookie", ""))
        assert token, headers
        form = urllib.parse.urlencode(
            {"csrf": token.group(1), "username": f"fuzz-{role}", "password": PASSWORD}
        )
        status, headers, _ = self.send(
            "POST",
            "/login",
            form.encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"cw_csrf={token.group(1)}",
            },
            conn,
        )
        assert status == 303, status
        session = re.search(r"cw_session=([^;]+)", headers.get("set-cookie", ""))
        assert session
        return f"cw_csrf={token.group(1)}; cw_session={session.group(1)}"

    def still_alive(self) -> None:
        """The same connection serves the next request (no reconnect behind our back)."""
        status, _, _ = self.send("GET", "/healthz")
        assert status == 200

    def close(self) -> None:
        self.conn.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.svc.close()


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    server = Live()
    yield server
    server.close()


# ------------------------------------------------------------------ API operations
PARAMS = {
    "period": "2026-11",
    "agency": "food_safety",
    "filer_reference": "ORD-1001",
    "number": "IM2760000001",
    "report": "liabilities",
    "person": "310101199001011234",
}
BODIES: dict[str, Any] = {
    "/v1/filings": make_filing(filer_reference="FZ-1", transport_document="RR123456785CN"),
    "/v1/filings/batch": [make_filing(filer_reference="FZ-2", transport_document="RR123456785CN")],
    "/v1/quotes": make_filing(),
    "/v1/messages": make_filing(filer_reference="FZ-3", transport_document="RR123456785CN"),
    "/v1/accounts": {"operator": "Fuzz", "currency": "EUR", "guarantee": "100"},
    "/v1/accounts/{account_id}/guarantee": {"amount": "200"},
    "/v1/accounts/{account_id}/periods": {"period": "2026-11"},
    "/v1/accounts/{account_id}/periods/{period}/payment": {
        "amount": "1.00",
        "currency": "EUR",
        "reference": "P",
    },
    "/v1/consignments/{consignment_id}/payments": {
        "amount": "1.00",
        "currency": "EUR",
        "reference": "P",
    },
    "/v1/consignments/{consignment_id}/actions": {
        "action": "record_inspection",
        "found": True,
        "corrected_value": "10.00",
        "notes": "n",
    },
    "/v1/arrivals": {"transport_documents": ["LX123456785CN"]},
    "/v1/registrations": {
        "operator": "Fuzz",
        "number": "IM2760000002",
        "scheme": "ioss",
        "jurisdiction": "EU",
        "valid_from": "2026-01-01",
    },
    "/v1/hs/suggest": {"description": "cotton t-shirt"},
    "/v1/agencies/{agency}/consignments/{consignment_id}/holds": {"action": "hold", "reason": "r"},
}


def _operations(live: Live) -> list[tuple[str, str]]:
    status, _, data = live.send("GET", "/openapi.json")
    assert status == 200
    spec = json.loads(data)
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )


def _url(live: Live, template: str) -> str:
    params = {**PARAMS, "consignment_id": live.consignment, "account_id": live.account}
    return re.sub(r"\{(\w+)\}", lambda m: urllib.parse.quote(params.get(m.group(1), "x")), template)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _put(doc: Any, path: tuple[Any, ...], raw: str) -> str:
    """`doc` as JSON text with the value at `path` replaced by the JSON text `raw`."""
    marker = "\u0000MARK\u0000"
    if not path:
        return raw
    copy = json.loads(json.dumps(doc))
    target = copy
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = marker
    return json.dumps(copy).replace(json.dumps(marker), raw)


@st.composite
def hostile_body(draw: st.DrawFn, base: Any) -> bytes:
    choice = draw(st.sampled_from(["scalar", "deep", "duplicate", "garbage"]))
    if choice == "garbage":
        return draw(st.binary(max_size=64))
    paths = _paths(base)
    where = draw(st.sampled_from(paths))
    if choice == "deep":
        return _put(base, where, draw(DEEP)).encode("utf-8", "surrogatepass")
    if choice == "duplicate" and isinstance(base, dict) and base:
        text = json.dumps(base)
        key = draw(st.sampled_from(sorted(base)))
        return ("{" + json.dumps(key) + ":" + json.dumps(draw(SCALARS)) + "," + text[1:]).encode(
            "utf-8", "surrogatepass"
        )
    value = draw(SCALARS)
    raw = (
        json.dumps(value)
        if not isinstance(value, str) or not value[:1].isdigit()
        else (
            json.dumps(value)
            if draw(st.booleans())
            else value
            if re.fullmatch(r"[0-9eE+.-]+", value)
            else json.dumps(value)
        )
    )
    return _put(base, where, raw).encode("utf-8", "surrogatepass")


def _check_api(live: Live, method: str, path: str, body: bytes | None) -> None:
    headers = {**live.admin}
    if body is not None:
        headers["Content-Type"] = "application/json"
    status, got, data = live.send(method, _url(live, path), body, headers)
    assert status < 500, (
        f"{method} {path} {body[:200] if body else ''!r} -> {status} {data[:300]!r}"
    )
    if status >= 400 and path != "/metrics":
        assert got.get("content-type", "").startswith("application/problem+json"), (path, got)
        assert json.loads(data)["status"] == status
    assert got.get("connection", "").lower() != "close"
    live.still_alive()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_hostile_body_makes_a_5xx_on_any_operation(live: Live, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from([op for op in _operations(live) if op[0] != "GET"]))
    base = BODIES.get(path, {})
    body = data.draw(hostile_body(base))
    _check_api(live, method, path, body)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_hostile_query_or_path_makes_a_5xx(live: Live, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(_operations(live)))
    value = data.draw(st.one_of(HUGE_NUMBERS, EXTREME_DATES, NASTY_TEXT))
    quoted = urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe="")
    url = (
        re.sub(r"\{(\w+)\}", quoted, path)
        if "{" in path and data.draw(st.booleans())
        else (_url(live, path))
    )
    url += f"?period={quoted}&page={quoted}&since={quoted}&day={quoted}&q={quoted}"
    status, _, body = live.send(method, url, None, live.admin)
    assert status < 500, f"{method} {url} -> {status} {body[:300]!r}"
    live.still_alive()


# ------------------------------------------------------------------ page forms
FORMS: list[tuple[str, str, str | None, tuple[str, ...]]] = [
    # (method, path, signed-in role, fields)
    (
        "GET",
        "/estimate",
        None,
        (
            "destination",
            "currency",
            "legal_date",
            "description_0",
            "value_0",
            "quantity_0",
            "hs_code_0",
            "origin_0",
            "transport_cost",
            "collection",
            "registration_number",
            "category",
            "mode",
        ),
    ),
    ("GET", "/restricted", None, ("q", "destination")),
    ("POST", "/login", None, ("username", "password", "csrf")),
    (
        "GET",
        "/officer/",
        "officer",
        ("q", "lane", "office", "reason", "authority", "min_age_hours", "sort", "page"),
    ),
    (
        "POST",
        "/officer/consignments/{consignment_id}/actions",
        "officer",
        (
            "action",
            "reason",
            "found",
            "corrected_value",
            "corrected_hs_code",
            "notes",
            "hold_id",
            "amount",
            "currency",
            "reference",
        ),
    ),
    ("GET", "/agency/", "agency", ("held", "page")),
    (
        "POST",
        "/agency/consignments/{consignment_id}/holds",
        "agency",
        ("agency", "action", "reason", "hold_id"),
    ),
    (
        "POST",
        "/analyst/profiles/WPN-BLADE-STUN",
        "analyst",
        (
            "effective_from",
            "effective_until",
            "weight",
            "threshold",
            "step",
            "confirm_backdate",
            "reason",
            "note",
        ),
    ),
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_hostile_form_value_makes_a_5xx_on_any_page(live: Live, data: st.DataObject) -> None:
    method, path, role, fields = data.draw(st.sampled_from(FORMS))
    chosen = data.draw(st.lists(st.sampled_from(fields), min_size=1, unique=True))
    values = {
        f: data.draw(st.one_of(HUGE_NUMBERS, EXTREME_DATES, NASTY_TEXT, st.text(max_size=20)))
        for f in chosen
    }
    headers: dict[str, str] = {}
    if role is not None:
        cookie = live.cookies[role]
        headers["Cookie"] = cookie
        values.setdefault("csrf", re.search(r"cw_csrf=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    encoded = urllib.parse.urlencode(
        {k: v.encode("utf-8", "surrogatepass") for k, v in values.items()}
    )
    url = _url(live, path)
    if method == "GET":
        status, _, body = live.send("GET", f"{url}?{encoded}", None, headers)
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, _, body = live.send("POST", url, encoded.encode(), headers)
    assert status < 500, f"{method} {path} {values!r} -> {status} {body[:300]!r}"
    live.still_alive()
