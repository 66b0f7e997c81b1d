"""`clearway quote [FILE|-]`: the landed-cost quote of one canonical filing, as JSON on stdout."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn, cast

import msgspec
import typer

from clearway.domain.assessment import MANUAL_ASSESSMENT
from clearway.domain.filing import decode_filing
from clearway.domain.validation import check_quote
from clearway.kernel.errors import InvalidInput
from clearway.revenue.quote import quote_document
from clearway.wiring.rates import assessor_with_rates

EXIT_BAD_INPUT = 2


def register(app: typer.Typer) -> None:
    """Add the `quote` command to the main CLI."""
    app.command("quote")(quote)


def quote(
    file: Annotated[str, typer.Argument(help="canonical filing JSON file, or - for stdin")] = "-",
    legal_date: Annotated[
        str | None, typer.Option("--date", help="legal date YYYY-MM-DD (default: filing's, today)")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="where `clearway rates load` put rates (default: settings)"
        ),
    ] = None,
) -> None:
    """Print the duty, tax and fees a filing will owe, with the trace that explains them.

    Exits 2 when the document cannot be quoted (invalid, a legal date no pack covers, a missing
    exchange rate), with the reason on stderr: never a quote of zero."""
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        doc = decode_filing(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        _fail(f"not a canonical filing document: {exc}")
    assessor = assessor_with_rates(database)
    problems = check_quote(doc, served=assessor.jurisdictions())
    if problems:
        _fail(
            "the document cannot be quoted:\n"
            + "\n".join(f"  {p.path}: {p.message}" for p in problems)
        )
    when = None
    if legal_date is not None:
        try:
            when = date.fromisoformat(legal_date)
        except ValueError:
            _fail(f"--date must be YYYY-MM-DD, not {legal_date!r}")
    try:
        result = quote_document(doc, when, assessor)
    except InvalidInput as exc:
        _fail(
            "the document cannot be quoted:\n"
            + "\n".join(f"  {p.path}: {p.message}" for p in exc.problems)
        )
    flags = cast(list[str], result.get("flags", []))
    if MANUAL_ASSESSMENT in flags:
        trace = cast(list[dict[str, str]], result.get("trace", []))
        said = [t["value"] for t in trace if t.get("name") == "assessment.fallback"]
        _fail(f"the document cannot be quoted: {said[0] if said else ', '.join(flags)}")
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)
