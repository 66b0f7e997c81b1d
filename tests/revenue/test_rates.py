"""Customs exchange rates: the pack's rule, rates loaded into the database, and what happens when
a rate is missing (a 422 problem for quotes, a parcel held for assessment — never a zero)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clearway.api.app import create_app
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.cli.main import app as cli
from clearway.domain.filing import encode, from_builtins
from clearway.kernel.clock import FixedClock
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.fx import fixing_day
from clearway.revenue.fx_files import RatesFileError, read_rates
from clearway.storage.engine import make_engine
from clearway.storage.fx_rates import load_rates, newest_rate_day
from clearway.storage.migrate import upgrade
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing

from .factories import filing, item

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fx_rates"
DECEMBER = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

XML = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-11-18">
      <Cube currency="USD" rate="1.1500"/><Cube currency="GBP" rate="0.8800"/>
    </Cube>
    <Cube time="2026-11-17"><Cube currency="USD" rate="1.1400"/></Cube>
  </Cube>
</gesmes:Envelope>
"""


def test_the_fixing_day_is_the_penultimate_wednesday_of_the_previous_month() -> None:
    # Wednesdays of October 2026: 7, 14, 21, 28; of November: 4, 11, 18, 25
    assert fixing_day(date(2026, 11, 1), "penultimate_wednesday") == date(2026, 10, 21)
    assert fixing_day(date(2026, 11, 30), "penultimate_wednesday") == date(2026, 10, 21)
    assert fixing_day(date(2026, 12, 1), "penultimate_wednesday") == date(2026, 11, 18)
    # January uses December of the year before (Wednesdays 2, 9, 16, 23, 30 in Dec. 2026)
    assert fixing_day(date(2027, 1, 15), "penultimate_wednesday") == date(2026, 12, 23)
    assert fixing_day(date(2026, 12, 1), "third_wednesday") == date(2026, 11, 18)


def test_the_ecb_files_and_a_plain_csv_are_read() -> None:
    hist = read_rates((SHARED / "ecb_eurofxref_hist.csv").read_text(encoding="utf-8"))
    assert (date(2026, 10, 30), "USD", Decimal("1.1172")) in hist
    assert not any(c == "BGN" and d == date(2026, 10, 30) for d, c, _ in hist)  # N/A
    daily = read_rates((SHARED / "ecb_eurofxref_latest.csv").read_text(encoding="utf-8"))
    assert (date(2026, 10, 30), "GBP", Decimal("0.83380")) in daily
    xml = read_rates(XML)
    assert (date(2026, 11, 18), "USD", Decimal("1.1500")) in xml and len(xml) == 3
    plain = read_rates("date,currency,rate\n2026-11-18,RUB,95.5\n")
    assert plain == [(date(2026, 11, 18), "RUB", Decimal("95.5"))]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("date,currency,rate\n2026-11-18,USD,-1\n", "positive"),
        ("date,currency,rate\n2026-13-18,USD,1\n", "not a date"),
        ("date,currency,rate\n2026-11-18,USD,abc\n", "not a number"),
        ("date,currency,rate\n2026-11-18,EUR,1\n", "per EUR"),
        ("hello\n", "not a rates file"),
        ("<Cube/>", "no <Cube"),
    ],
)
def test_a_bad_rates_file_is_refused_with_the_line(text: str, why: str) -> None:
    with pytest.raises(RatesFileError) as err:
        read_rates(text)
    assert why in err.value.detail


def test_loading_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rows = read_rates(XML)
    first = load_rates(engine, rows, "eurofxref.xml", now)
    again = load_rates(engine, rows, "eurofxref.xml", now)
    assert (first.added, first.changed) == (3, 0)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    fixed = load_rates(engine, [(date(2026, 11, 18), "USD", Decimal("1.1501"))], "fix.csv", now)
    assert (fixed.added, fixed.changed) == (0, 1)
    assert newest_rate_day(engine) == date(2026, 11, 18)
    engine.dispose()


def test_rates_cli_loads_and_reports_coverage(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "eurofxref.xml"
    path.write_text(XML, encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli, ["rates", "load", str(path), "--database", sqlite_url])
    assert first.exit_code == 0, first.output
    assert "3 added" in first.output
    again = runner.invoke(cli, ["rates", "load", str(path), "--database", sqlite_url])
    assert "0 added, 0 changed, 3 already held" in again.output
    status = runner.invoke(cli, ["rates", "status", "--database", sqlite_url])
    assert status.exit_code == 0, status.output
    assert "2026-11-18" in status.output  # USD and GBP, from the database
    bad = tmp_path / "bad.csv"
    bad.write_text("date,currency,rate\n2026-11-18,USD,x\n", encoding="utf-8")
    refused = runner.invoke(cli, ["rates", "load", str(bad), "--database", sqlite_url])
    assert refused.exit_code == 2 and "line 2" in refused.output


@pytest.fixture
def december(sqlite_url: str) -> Iterator[Services]:
    svc = build(Settings(database_url=sqlite_url, sample_rate=0.0), clock=DECEMBER)
    assert isinstance(svc.assessor, PackAssessor)
    svc.assessor.rate_refresh_seconds = 0  # re-read the database on every missing rate
    yield svc
    svc.close()


def _usd_quote() -> bytes:
    return encode(filing("DE", currency="USD", legal_date="2026-12-01", items=[item("100.00")]))


def test_a_quote_needing_a_missing_rate_is_a_422_naming_it_until_rates_are_loaded(
    december: Services,
) -> None:
    with TestClient(create_app(december)) as client:
        r = client.post(
            "/v1/quotes", content=_usd_quote(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 422, r.text
        text = r.text
        # December 2026 converts at the rates of 2026-11-18; the shipped history ends 2026-10-30
        assert "USD" in text and "2026-11-18" in text and "clearway rates load" in text
        health = client.get("/healthz").json()
        assert health["fx_rates_newest"] == "2026-10-30" and "stale" not in health
        assert "clearway rates load" in health["fx_rates_warning"]

        load_rates(
            december.engine,
            [(date(2026, 11, 18), "USD", Decimal("1.25"))],
            "test.csv",
            datetime(2026, 12, 1, tzinfo=UTC),
        )
        r = client.post(
            "/v1/quotes", content=_usd_quote(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 200, r.text
        q = r.json()
        # 100 USD / 1.25 = 80.00 EUR; under EUR 150 and after 2026-07-01: EUR 3 flat duty (sale)
        # VAT (80 + 3) × 19 % = 15.77
        assert q["customs_value"] == "80.00" and q["duty"] == "3.00" and q["tax"] == "15.77"
        fx = next(t for t in q["trace"] if t["name"] == "fx.USD.EUR")
        assert fx["at"] == "2026-11-18"
        assert client.get("/healthz").json()["fx_rates_newest"] == "2026-11-18"


def test_a_filing_needing_a_missing_rate_is_held_with_the_reason(december: Services) -> None:
    name = "Mercato Global"
    filer = Filer(december.operators.ensure(name, "platform"), name, "platform")
    doc = make_filing(
        legal_date="2026-12-01",
        currency="USD",
        collection={"model": "consumer"},
        payment={"id": "P-1", "amount": "27.40", "currency": "USD", "payer_name": "Anna Müller"},
    )
    [r] = december.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert r.outcome == "accepted", r
    assert r.decision is not None and r.decision.lane in ("yellow", "red")
    [reason] = [x for x in r.decision.reasons if x.code == "manual_assessment_required"]
    assert "fx_rate_unavailable" in reason.text and "USD" in reason.text
    assert "clearway rates load" in reason.text


def test_cli_quote_refuses_what_it_cannot_compute(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "rub.json"
    path.write_bytes(
        encode(filing("DE", currency="RUB", legal_date="2024-05-06", items=[item("5000")]))
    )
    r = CliRunner().invoke(cli, ["quote", str(path), "--database", sqlite_url])
    assert r.exit_code == 2
    assert "RUB" in r.output and '"total"' not in r.output


@pytest.mark.parametrize(
    ("country", "day", "why"),
    [
        ("GB", "2020-12-31", "from 2021-01-01"),
        ("DE", "2017-06-01", "from 2018-01-01"),
        ("US", "2015-06-01", "from 2018-01-01"),
        ("DE", "2099-01-01", "days after today"),
    ],
)
def test_a_legal_date_outside_the_pack_is_a_422(
    country: str, day: str, why: str, assessor: PackAssessor
) -> None:
    from clearway.kernel.errors import InvalidInput
    from clearway.revenue.quote import quote_document

    doc = filing(country, items=[item("100.00")])
    with pytest.raises(InvalidInput) as err:
        quote_document(doc, date.fromisoformat(day), assessor, DECEMBER)
    [p] = err.value.problems
    assert p.code == "law_period_not_covered" and why in p.message
    # a filing dated there is held for an officer, with the reason, not assessed on today's law
    a = assessor.assess(doc, date.fromisoformat(day)) if "today" not in why else None
    if a is not None:
        assert "law_period_not_covered" in a.flags and "manual_assessment_required" in a.flags


def test_the_api_answers_422_for_a_date_outside_the_pack(sqlite_services: Services) -> None:
    body = json.dumps(
        {**json.loads(encode(filing("GB", items=[item("100.00")]))), "legal_date": "2020-06-01"}
    )
    with TestClient(create_app(sqlite_services)) as client:
        r = client.post("/v1/quotes", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "law_period_not_covered" in r.text


def test_cli_quote_refuses_a_date_outside_the_pack(tmp_path: Path, sqlite_url: str) -> None:
    path = tmp_path / "gb.json"
    path.write_bytes(encode(filing("GB", currency="GBP", items=[item("100.00")])))
    r = CliRunner().invoke(
        cli, ["quote", str(path), "--date", "2020-06-01", "--database", sqlite_url]
    )
    assert r.exit_code == 2
    assert "2021-01-01" in r.output and '"total"' not in r.output


def test_a_filing_dated_before_its_pack_is_held_with_the_reason(december: Services) -> None:
    name = "Mercato Global"
    filer = Filer(december.operators.ensure(name, "platform"), name, "platform")
    doc = make_filing(
        legal_date="2020-06-01",
        destination_country="GB",
        currency="GBP",
        collection={"model": "consumer"},
        payment={"id": "P-1", "amount": "27.40", "currency": "GBP", "payer_name": "Anna Müller"},
    )
    [r] = december.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert r.outcome == "accepted", r
    assert r.decision is not None
    [reason] = [x for x in r.decision.reasons if x.code == "manual_assessment_required"]
    assert "law_period_not_covered" in reason.text and "2021-01-01" in reason.text


def test_the_law_horizon_is_a_setting(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, assessor: PackAssessor
) -> None:
    from clearway.kernel.errors import InvalidInput
    from clearway.revenue.quote import quote_document
    from clearway.wiring.rates import with_stored_rates

    monkeypatch.setenv("CLEARWAY_LAW_HORIZON_DAYS", "30")
    settings = Settings(database_url=sqlite_url)
    assert settings.law_horizon_days == 30
    short = with_stored_rates(assessor, make_engine(sqlite_url), settings)
    doc = filing("DE", items=[item("100.00")])
    # 30 days after 2026-12-01 is still answered; 31 days is a problem naming the horizon
    quote = quote_document(doc, date(2026, 12, 31), short, DECEMBER)
    assert quote["legal_date"] == "2026-12-31"
    with pytest.raises(InvalidInput) as err:
        quote_document(doc, date(2027, 1, 1), short, DECEMBER)
    [p] = err.value.problems
    assert p.code == "law_period_not_covered" and "30 days after today" in p.message
    # the default (180 days) answers the same date
    assert quote_document(doc, date(2027, 1, 1), assessor, DECEMBER)["legal_date"] == "2027-01-01"
