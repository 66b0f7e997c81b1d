"""`clearway quote [FILE|-]`: the landed-cost quote of one canonical filing, as JSON on stdout."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import msgspec
import typer

from clearway.domain.filing import decode_filing
from clearway.domain.validation import check_quote
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.quote import quote_document

EXIT_BAD_INPUT = 2


def register(app: typer.Typer) -> None:
    """Add the `quote` command to the main CLI."""
    app.command("quote")(quote)


def quote(
    file: Annotated[str, typer.Argument(help="canonical filing JSON file, or - for stdin")] = "-",
    legal_date: Annotated[
        str | None, typer.Option("--date", help="legal date YYYY-MM-DD (default: filing's, today)")
    ] = None,
) -> None:
    """Print the duty, tax and fees a filing will owe, with the trace that explains them."""
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        doc = decode_filing(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        _fail(f"not a canonical filing document: {exc}")
    problems = check_quote(doc, served=PackAssessor.load_default().jurisdictions())
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
    typer.echo(json.dumps(quote_document(doc, when), indent=2, ensure_ascii=False))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)
