"""The command line: generate, file (every format), demo, keys — on real SQLite files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from clearway.cli.main import app
from clearway.storage import tables as t

runner = CliRunner()


def test_generate_then_file_reports_every_filing(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    done = runner.invoke(app, ["generate", "--parcels", "300", "--seed", "5", "--out", str(out)])
    assert done.exit_code == 0, done.output
    truth = [json.loads(x) for x in out.with_suffix(".truth.jsonl").read_text().splitlines()]
    assert len(truth) == 300
    lines = out.read_text().splitlines()
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    filed = runner.invoke(app, ["file", str(out), "--json", "--database", db])
    assert filed.exit_code == 0, filed.output
    summary = json.loads(filed.stdout)
    assert summary["accepted"] + summary["rejected"] == len(lines)
    bad_s10 = sum(1 for x in truth if "bad_s10" in x["violations"])
    rejected = [r for r in summary["results"] if r["outcome"] == "rejected"]
    assert len(rejected) == bad_s10
    assert all(r["problems"][0]["code"] == "s10_invalid" for r in rejected)
    with create_engine(db).connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.filings)).scalar_one()
    assert stored == summary["accepted"]


def test_file_takes_a_folder_of_mixed_formats(tmp_path: Path) -> None:
    folder = tmp_path / "messages"
    done = runner.invoke(
        app,
        ["generate", "--parcels", "150", "--seed", "2", "--format", "mixed", "--out", str(folder)],
    )
    assert done.exit_code == 0, done.output
    kinds = {p.suffix for p in folder.iterdir()}
    assert {".json", ".xml"} <= kinds
    db = f"sqlite:///{tmp_path / 'm.sqlite'}"
    filed = runner.invoke(app, ["file", str(folder), "--json", "--database", db])
    assert filed.exit_code == 0, filed.output
    summary = json.loads(filed.stdout)
    assert summary["accepted"] > 150


def test_file_continues_past_bad_records_and_explains_them(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"filer_reference": "x"}\nnot json\n')
    db = f"sqlite:///{tmp_path / 'b.sqlite'}"
    filed = runner.invoke(app, ["file", str(path), "--json", "--database", db])
    assert filed.exit_code == 1  # nothing accepted
    summary = json.loads(filed.stdout)
    assert summary["rejected"] == 2
    missing = runner.invoke(app, ["file", str(tmp_path / "nope.json"), "--database", db])
    assert missing.exit_code == 2


def test_demo_summary_matches_the_database(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    done = runner.invoke(
        app, ["demo", "--parcels", "600", "--seed", "3", "--database", str(db), "--json"]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    with create_engine(f"sqlite:///{db}").connect() as conn:
        # the demo files a history day (2026-11-01) before its own traffic (dated 2026-11-02,
        # or the filing date where a format carries no legal date, as H7 does not)
        c = t.consignments.c
        statuses = dict(
            conn.execute(
                select(c.status, func.count())
                .where(c.legal_date != date(2026, 11, 1))
                .group_by(c.status)
            ).all()
        )
        history = conn.execute(
            select(func.count())
            .select_from(t.consignments)
            .where(c.legal_date == date(2026, 11, 1))
        ).scalar_one()
    assert history > 0
    assert summary["status"] == {k: v for k, v in statuses.items()}
    assert sum(summary["arrivals"].values()) == sum(statuses.values())
    for counts in summary["planted_violations"].values():
        caught = sum(v for k, v in counts.items() if k != "planted")
        assert caught == counts["planted"]  # every planted violation is caught or missed
    bad_s10 = summary["planted_violations"].get("bad_s10")
    if bad_s10:
        assert bad_s10["planted"] == bad_s10["rejected at filing"]


def test_keys_are_created_for_valid_roles_only(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.sqlite'}"
    ok = runner.invoke(
        app, ["keys", "create", "--operator", "Post", "--role", "post", "--database", db]
    )
    assert ok.exit_code == 0 and ok.stdout.startswith("cw_")
    bad = runner.invoke(
        app, ["keys", "create", "--operator", "Post", "--role", "king", "--database", db]
    )
    assert bad.exit_code == 2


def test_a_revoked_key_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    key = runner.invoke(
        app, ["keys", "create", "--operator", "P", "--role", "post", "--database", db]
    ).stdout.strip()
    prefix = key.split("_")[1]
    assert runner.invoke(app, ["keys", "revoke", prefix, "--database", db]).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", prefix, "--database", db]).exit_code == 2
    from clearway.storage.engine import make_engine
    from clearway.storage.repository import Operators

    assert Operators(make_engine(db)).authenticate(key) is None


def test_failures_are_messages_with_exit_code_2_not_tracebacks(tmp_path: Path) -> None:
    import subprocess
    import sys

    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clearway.cli.main import main; main()",
            "export",
            "--out",
            str(tmp_path / "snap"),
            "--database",
            empty,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "clearway db upgrade" in run.stderr and "Traceback" not in run.stderr
