"""`clearway export | stats | whatif | report` end to end on a stored day, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from clearway.cli.analysis import register
from tests.statistics.conftest import Traffic

STUDY = Path(__file__).parent / "data" / "eu_2021_relief.yaml"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_commands_end_to_end(sqlite_traffic: Traffic, tmp_path: Path) -> None:
    traffic = sqlite_traffic
    runner = CliRunner()
    db = traffic.services.settings.database_url
    app = _app()
    snap = tmp_path / "snap"
    done = runner.invoke(
        app, ["export", "--out", str(snap), "--since", "2026-11-01", "--database", db]
    )
    assert done.exit_code == 0, done.output
    assert (snap / "manifest.json").is_file()

    done = runner.invoke(app, ["stats", "--snapshot", str(snap), "--json", "--dimension", "mode"])
    assert done.exit_code == 0, done.output
    stats = json.loads(done.stdout)
    assert sum(r["parcels"] for r in stats["breakdowns"]["mode"]) == len(
        traffic.services.store.counts("transport_document")
    )

    done = runner.invoke(
        app, ["whatif", "--snapshot", str(snap), "--overrides", str(STUDY), "--json"]
    )
    assert done.exit_code == 0, done.output
    names = [r["name"] for r in json.loads(done.stdout)]
    assert names == ["baseline", "relief_2021", "all_consumer", "de_vat_25_customs_value"]

    out = tmp_path / "report"
    done = runner.invoke(
        app,
        [
            "report",
            "--out",
            str(out),
            "--period",
            "2026-11",
            "--overrides",
            str(STUDY),
            "--database",
            db,
        ],
    )
    assert done.exit_code == 0, done.output
    html = (out / "index.html").read_text("utf-8")
    assert "De minimis what-if" in html and "relief_2021" in html
    assert (out / "charts" / "whatif_relief_2021.svg").is_file()


def test_errors_exit_with_a_message(tmp_path: Path, sqlite_url: str) -> None:
    runner = CliRunner()
    app = _app()
    done = runner.invoke(app, ["stats", "--snapshot", str(tmp_path / "none")])
    assert done.exit_code == 2 and "not a snapshot" in _text(done.output)
    done = runner.invoke(app, ["stats", "--snapshot", str(tmp_path), "--period", "2026-99"])
    assert done.exit_code == 2
    (tmp_path / "keep.txt").write_text("x")
    done = runner.invoke(app, ["export", "--out", str(tmp_path), "--database", sqlite_url])
    assert done.exit_code == 2 and "holds no snapshot" in _text(done.output)
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios: []\n")
    done = runner.invoke(app, ["whatif", "--overrides", str(bad), "--snapshot", str(tmp_path)])
    assert done.exit_code == 2 and "non-empty list" in _text(done.output)


def _text(output: str) -> str:
    """The message with the console's line wrapping undone."""
    return " ".join(output.split())
