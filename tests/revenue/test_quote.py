from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from typer.testing import CliRunner

from clearway.cli.quote import register
from clearway.domain.filing import encode
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.quote import quote_document

from .factories import filing, item

FIELDS = {
    "jurisdiction", "legal_date", "currency", "irg_category", "intrinsic_value", "customs_value",
    "duty", "tax", "fees", "total", "collection_model", "payable_at_border", "lines", "trace",
}  # fmt: skip


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps `quote` a named sub-command
        """Nothing."""

    return app


def test_quote_has_the_documented_shape(assessor: PackAssessor) -> None:
    doc = filing("FR", items=[item("100.00"), item("20.00", hs="420292")], transport_cost="6.00")
    q = quote_document(doc, date(2025, 3, 3), assessor)
    assert q.keys() >= FIELDS
    assert q["currency"] == "EUR" and q["jurisdiction"] == "EU-FR"
    # 120 + 6 transport = 126 customs value; VAT 20 % on 105 and 21 (transport apportioned by value)
    assert q["customs_value"] == "126.00"
    assert q["tax"] == "25.20" and q["total"] == "25.20" and q["payable_at_border"] == "25.20"
    lines = q["lines"]
    assert isinstance(lines, list) and [ln["tax"] for ln in lines] == ["21.00", "4.20"]


def test_quote_uses_the_filing_legal_date(assessor: PackAssessor) -> None:
    doc = filing("DE", legal_date="2020-09-01", items=[item("100.00")])
    q = quote_document(doc, None, assessor)
    assert q["legal_date"] == "2020-09-01"
    assert q["tax"] == "16.00"  # German temporary rate 16 % (2020-07-01 … 2020-12-31)


def test_cli_prints_the_quote(tmp_path: Path) -> None:
    path = tmp_path / "filing.json"
    path.write_bytes(encode(filing("NL", legal_date="2024-05-06", items=[item("50.00")])))
    result = CliRunner().invoke(_app(), ["quote", str(path)])
    assert result.exit_code == 0, result.output
    q = json.loads(result.stdout)
    assert q["total"] == "10.50"  # 50 × 21 %


def test_cli_reads_stdin() -> None:
    body = encode(filing("IE", legal_date="2024-05-06", items=[item("100.00")]))
    result = CliRunner().invoke(_app(), ["quote", "-"], input=body.decode())
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"] == "23.00"


def test_cli_rejects_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"filer_reference": "x"}')
    result = CliRunner().invoke(_app(), ["quote", str(path)])
    assert result.exit_code == 2
    assert "not a canonical filing document" in result.stderr
    missing = CliRunner().invoke(_app(), ["quote", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    good = tmp_path / "good.json"
    good.write_bytes(encode(filing("NL", items=[item("50.00")])))
    bad_date = CliRunner().invoke(_app(), ["quote", "--date", "31/12/2024", str(good)])
    assert bad_date.exit_code == 2 and "--date" in bad_date.stderr
