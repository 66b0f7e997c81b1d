"""The accounts CLI and the demo summary, on a generated day in a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from clearway.cli import accounts as accounts_cli
from clearway.cli.main import app as main_app
from clearway.wiring.services import build
from clearway.wiring.settings import Settings


def test_demo_day_settles_and_reconciles(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    run = CliRunner().invoke(
        main_app, ["demo", "--parcels", "300", "--seed", "3", "--database", str(db), "--json"]
    )
    assert run.exit_code == 0, run.output
    # the demo runs the month's accounts itself and reports them in its summary
    summary = json.loads(run.stdout.strip().splitlines()[-1])["accounts"]
    svc = build(Settings(database_url=f"sqlite:///{db}", sample_rate=0.0))
    try:
        assert svc.accounts is not None
        registered = svc.accounts.accounts.registry.registrations()
    finally:
        svc.close()
    assert summary["accounts"] >= 2 and len(registered) >= 2
    assert summary["liabilities_accrued"] > 0
    assert summary["all_reconcile"] is True
    assert summary["report_differences_found"] == 1  # the one planted in the first report
    assert summary["open_liability_after_payment"] == {}
    assert all(d["status"] == "closed" for d in summary["declarations"])


def test_cli_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    svc = build(Settings(database_url=url))
    svc.operators.ensure("Mercato Global", "platform")
    svc.close()
    cli = typer.Typer()
    accounts_cli.register(cli)
    runner = CliRunner()

    def call(*args: str) -> str:
        res = runner.invoke(cli, ["accounts", *args, "--database", url])
        assert res.exit_code == 0, res.output
        return res.output

    opened = call("open", "--operator", "Mercato Global", "--currency", "EUR", "--guarantee", "500")
    assert '"guarantee":"500.00"' in opened
    call(
        "register-number",
        "--operator",
        "Mercato Global",
        "--number",
        "IM2760000001",
        "--scheme",
        "ioss",
        "--jurisdiction",
        "EU",
        "--valid-from",
        "2026-01-01",
    )
    suspended = call("set-status", "IM2760000001", "--status", "suspended", "--reason", "audit")
    assert '"status":"suspended"' in suspended
    assert '"open_liability":"0"' in call("list")
    bad = runner.invoke(
        cli,
        [
            "accounts",
            "register-number",
            "--operator",
            "Nobody",
            "--number",
            "XX1",
            "--scheme",
            "ioss",
            "--jurisdiction",
            "EU",
            "--valid-from",
            "2026-01-01",
            "--database",
            url,
        ],
    )
    assert bad.exit_code == 2 and "/operator" in bad.output and "/number" in bad.output
    out = tmp_path / "liabilities.parquet"
    assert "1 rows" in call("report", "liabilities", "--format", "parquet", "--out", str(out))
    assert out.stat().st_size > 0
    q = call("quota", "110101199001011234", "--year", "2026")
    assert '"annual_limit":"26000"' in q and '"used":"0"' in q
