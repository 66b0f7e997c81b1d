"""The 29 inputs that once made a 500, and the lax readings of numbers and text.

Each must be answered with a 4xx problem document naming the rule it broke, on SQLite and on
PostgreSQL alike, and the connection must stay usable (a second request on it is served).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.integrity.conftest import key

HUGE = "1E+999999999"
ANCIENT = "0001-01-01"
CSV_HEADER = (
    "filer_reference,transport_document,destination_country,currency,legal_date,"
    "item_description,item_quantity,item_value,item_hs_code\n"
)


def deep(levels: int = 1000) -> bytes:
    return b'{"filer_reference":' + b"[" * levels + b"]" * levels + b"}"


def filing_with(**changes: Any) -> dict[str, Any]:
    doc = make_filing()
    for path, value in changes.items():
        target: Any = doc
        *parents, last = path.split("__")
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[int(last) if last.isdigit() else last] = value
    return doc


def csv_body(value: str = "12.50", legal_date: str = "2026-11-02") -> bytes:
    row = f"C-1,LX123456785CN,DE,EUR,{legal_date},Plastic phone case,1,{value},392690\n"
    return (CSV_HEADER + row).encode()


@dataclass
class World:
    client: TestClient
    platform: dict[str, str]
    officer: dict[str, str]
    consignment: str
    account: str


@pytest.fixture
def world(client: TestClient, services: Services) -> World:
    platform = key(services, "Hostile Shop", "platform")
    officer = key(services, "Border Office", "officer")
    filed = client.post("/v1/filings", headers=platform, json=make_filing())
    assert filed.status_code == 201, filed.text
    acc = client.post(
        "/v1/accounts",
        headers=officer,
        json={"operator": "Hostile Shop", "currency": "EUR", "guarantee": "100"},
    )
    assert acc.status_code == 201, acc.text
    return World(client, platform, officer, filed.json()["consignment_id"], acc.json()["id"])


Send = Callable[[World], Any]


def post_json(path: str, body: bytes, who: str = "platform") -> Send:
    def send(w: World) -> Any:
        headers = {**getattr(w, who), "Content-Type": "application/json"}
        return w.client.post(
            path.format(c=w.consignment, a=w.account), content=body, headers=headers
        )

    return send


def post_csv(body: bytes) -> Send:
    def send(w: World) -> Any:
        headers = {**w.platform, "Content-Type": "text/csv"}
        return w.client.post("/v1/messages", content=body, headers=headers)

    return send


def estimate(**fields: str) -> Send:
    def send(w: World) -> Any:
        params = {
            "destination": "DE",
            "currency": "EUR",
            "legal_date": "2026-11-02",
            "description_0": "Plastic phone case",
            "value_0": "12.50",
            **fields,
        }
        return w.client.get("/estimate", params=params)

    return send


def enc(doc: Any) -> bytes:
    return msgspec.json.encode(doc)


# (name, request, a problem code the answer must carry; None for pages, which answer in HTML)
THE_29: list[tuple[str, Send, str | None]] = [
    ("deep JSON on /v1/filings", post_json("/v1/filings", deep()), "too_deep"),
    ("deep JSON on /v1/filings/batch", post_json("/v1/filings/batch", deep()), "too_deep"),
    ("deep array on /v1/filings/batch", post_json("/v1/filings/batch", b"[" * 5000), "too_deep"),
    ("deep JSON on /v1/messages", post_json("/v1/messages", deep()), "too_deep"),
    ("deep JSON on /v1/quotes", post_json("/v1/quotes", deep()), "too_deep"),
    ("deep JSON on /v1/accounts", post_json("/v1/accounts", deep(), "officer"), "too_deep"),
    ("deep JSON on /v1/hs/suggest", post_json("/v1/hs/suggest", deep()), "too_deep"),
    (
        "huge item value on /v1/filings",
        post_json("/v1/filings", enc(filing_with(items__0__value=HUGE))),
        "number_syntax",
    ),
    (
        "huge item value in a batch",
        post_json("/v1/filings/batch", enc([filing_with(items__0__value=HUGE)])),
        "number_syntax",
    ),
    (
        "huge item value on /v1/messages (JSON)",
        post_json("/v1/messages", enc(filing_with(items__0__value=HUGE))),
        "number_syntax",
    ),
    (
        "huge item value on /v1/quotes",
        post_json("/v1/quotes", enc(filing_with(items__0__value=HUGE))),
        "number_syntax",
    ),
    (
        "huge transport cost on /v1/filings",
        post_json("/v1/filings", enc(filing_with(transport_cost=HUGE))),
        "number_syntax",
    ),
    (
        "huge payment amount in a filing",
        post_json("/v1/filings", enc(filing_with(payment__amount=HUGE))),
        "number_syntax",
    ),
    ("huge item value in CSV", post_csv(csv_body(value=HUGE)), "amount.invalid"),
    (
        "huge parcel payment",
        post_json(
            "/v1/consignments/{c}/payments",
            enc({"amount": HUGE, "currency": "EUR", "reference": "PAY-1"}),
            "officer",
        ),
        "number_syntax",
    ),
    (
        "huge account payment",
        post_json(
            "/v1/accounts/{a}/periods/2026-11/payment",
            enc({"amount": HUGE, "currency": "EUR", "reference": "PAY-2"}),
            "officer",
        ),
        "number_syntax",
    ),
    (
        "huge guarantee on a new account",
        post_json(
            "/v1/accounts",
            enc({"operator": "Other Shop", "currency": "EUR", "guarantee": HUGE}),
            "officer",
        ),
        "number_syntax",
    ),
    (
        "huge guarantee change",
        post_json("/v1/accounts/{a}/guarantee", enc({"amount": HUGE}), "officer"),
        "number_syntax",
    ),
    (
        "huge corrected value",
        post_json(
            "/v1/consignments/{c}/actions",
            enc({"action": "record_inspection", "found": True, "corrected_value": HUGE}),
            "officer",
        ),
        "number_syntax",
    ),
    ("huge value on the estimate page", estimate(value_0=HUGE), None),
    ("huge transport cost on the estimate page", estimate(transport_cost=HUGE), None),
    (
        "ancient legal date on /v1/filings",
        post_json("/v1/filings", enc(filing_with(legal_date=ANCIENT))),
        "date_range",
    ),
    (
        "ancient legal date in a batch",
        post_json("/v1/filings/batch", enc([filing_with(legal_date=ANCIENT)])),
        "date_range",
    ),
    (
        "ancient legal date on /v1/messages (JSON)",
        post_json("/v1/messages", enc(filing_with(legal_date=ANCIENT))),
        "date_range",
    ),
    (
        "ancient legal date on /v1/quotes",
        post_json("/v1/quotes", enc(filing_with(legal_date=ANCIENT))),
        "date_range",
    ),
    ("ancient legal date in CSV", post_csv(csv_body(legal_date=ANCIENT)), "date_range"),
    ("ancient legal date on the estimate page", estimate(legal_date=ANCIENT), None),
    (
        "ancient order date on /v1/filings",
        post_json(
            "/v1/filings",
            enc(filing_with(order__placed_at="0001-01-01T00:00:00Z")),
        ),
        "date_range",
    ),
    (
        "ancient registration date",
        post_json(
            "/v1/registrations",
            enc(
                {
                    "operator": "Hostile Shop",
                    "number": "IM2760000001",
                    "scheme": "ioss",
                    "jurisdiction": "EU",
                    "valid_from": ANCIENT,
                }
            ),
            "officer",
        ),
        "date_range",
    ),
]


def codes_in(body: dict[str, Any]) -> set[str]:
    """Problem codes anywhere in an answer: a problem document or per-filing results."""
    found = {p.get("code", "") for p in body.get("problems", [])}
    for r in body.get("results", []):
        found |= {p.get("code", "") for p in r.get("problems", [])}
    return found


@pytest.mark.parametrize(("name", "send", "code"), THE_29, ids=[n for n, _, _ in THE_29])
def test_hostile_input_is_a_4xx_problem_not_a_500(
    world: World, name: str, send: Send, code: str | None
) -> None:
    r = send(world)
    assert r.status_code < 500, r.text
    if code is None:  # a page: the form answers with its own error message
        assert r.headers["content-type"].startswith("text/html")
        assert "cannot be estimated" in r.text or 'aria-invalid="true"' in r.text, r.text[:500]
    else:
        body = r.json()
        rejected = r.status_code >= 400 or body.get("rejected", 0) == len(body.get("results", []))
        assert rejected, r.text
        assert code in codes_in(body), r.text
    assert world.client.get("/healthz").status_code == 200  # the connection still serves


LAX = ["1_000", "１２", " 12", "12 ", "-0", "0E-1000000", "1e3", "+-1", ".5", "5.", "0x10", "NaN"]


@pytest.mark.parametrize("text", LAX)
def test_only_plain_decimal_strings_are_amounts(world: World, text: str) -> None:
    doc = filing_with(items__0__value=text, filer_reference=f"LAX-{LAX.index(text)}")
    r = world.client.post("/v1/filings", headers=world.platform, json=doc)
    assert r.status_code == 422, r.text
    assert any(p["path"] == "/items/0/value" for p in r.json()["problems"]), r.text


def test_duplicate_keys_are_refused_not_last_one_wins(world: World) -> None:
    body = enc(make_filing(filer_reference="DUP-1")).replace(
        b'"currency":"EUR"', b'"currency":"USD","currency":"EUR"', 1
    )
    assert body.count(b'"currency"') >= 2
    r = world.client.post(
        "/v1/filings", headers={**world.platform, "Content-Type": "application/json"}, content=body
    )
    assert r.status_code == 422, r.text
    assert "duplicate_key" in codes_in(r.json())


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\u2066", "\x9b"])
def test_control_and_direction_characters_refused_on_every_database(
    world: World, char: str
) -> None:
    doc = filing_with(
        filer_reference=f"CTL-{ord(char)}",
        consignee__name=f"Anna{char}Müller",
    )
    r = world.client.post("/v1/filings", headers=world.platform, json=doc)
    assert r.status_code == 422, r.text
    assert any(
        p["path"] == "/consignee/name" and p["code"] == "unsafe_character"
        for p in r.json()["problems"]
    ), r.text
    # the same text through CSV: the same answer
    csv = CSV_HEADER.replace("item_description", "item_description") + (
        f"C-{ord(char)},LX123456785CN,DE,EUR,2026-11-02,Phone{char} case,1,12.50,392690\n"
    )
    r = world.client.post(
        "/v1/messages",
        headers={**world.platform, "Content-Type": "text/csv"},
        content=csv.encode(),
    )
    assert r.status_code < 500, r.text
    if r.status_code == 200:
        [result] = r.json()["results"]
        assert result["outcome"] == "rejected", r.text
        assert "unsafe_character" in {p["code"] for p in result["problems"]}, r.text


def test_plain_text_with_line_breaks_and_scripts_is_still_accepted(world: World) -> None:
    doc = filing_with(
        filer_reference="OK-TEXT",
        transport_document="RR123456785CN",
        consignee__name="Zoë Ångström-Łukasz 王芳",
        consignee__address="Hauptstraße 5\nHinterhaus",
    )
    r = world.client.post("/v1/filings", headers=world.platform, json=doc)
    assert r.status_code == 201, r.text
