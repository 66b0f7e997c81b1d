"""`clearway hs …`: the HS classification assistant — suggest codes, build the index, evaluate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearway.classification.classifier import Classifier
from clearway.classification.evaluation import UnreadableData, evaluate, read_examples
from clearway.classification.report import suggestion_json
from clearway.kernel.codes import is_country
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.tariff_text import national_texts

app = typer.Typer(help="HS classification assistant (offline, on the CPU).", no_args_is_help=True)
err = Console(stderr=True)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="hs")


def load_classifier() -> Classifier:
    """The classifier over the shipped packs' national texts; a first run builds the index
    with a progress bar."""
    with Progress(
        TextColumn("building the HS index (once)"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("index", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return Classifier(national_texts(PackAssessor.load_default().packs), progress=advance)


def _destination(code: str | None) -> str | None:
    if code is None:
        return None
    if not is_country(code.upper()):
        err.print(f"[red]--destination must be an ISO 3166 alpha-2 code such as FR, not {code}[/]")
        raise typer.Exit(2)
    return code.upper()


@app.command("suggest")
def suggest(
    description: Annotated[str, typer.Argument(help="What the goods are, in words")],
    destination: Annotated[
        str | None,
        typer.Option("--destination", help="Country whose national 8/10-digit lines to show"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10, help="How many codes")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Suggest HS 2022 subheadings for a description, best first, with their paths."""
    if not description.strip():
        err.print('[red]describe the goods, e.g. "men\'s waterproof jacket, polyester"[/]')
        raise typer.Exit(2)
    dest = _destination(destination)
    found = load_classifier().suggest(description, dest, limit)
    if as_json:
        sys.stdout.write(json.dumps(suggestion_json(found), ensure_ascii=False) + "\n")
        return
    table = Table(title=f"HS 2022 suggestions for “{description}”")
    for col in ("#", "code", "score", "path", "national line" if dest else ""):
        if col:
            table.add_column(col)
    for n, c in enumerate(found.candidates, 1):
        path = "\n".join(f"{p.code} {p.description}" for p in c.path)
        row = [str(n), c.code, f"{c.score:.3f}", path]
        if dest:
            row.append("\n".join(f"{x.code} {x.description}" for x in c.national[:1]) or "—")
        table.add_row(*row)
    Console().print(table)


@app.command("index")
def index() -> None:
    """Build the embedding index of the nomenclature now (else the first suggestion does)."""
    c = load_classifier()
    err.print(f"HS index ready: {len(c.codes)} subheadings, model {c.model}")


@app.command("evaluate")
def evaluate_cmd(
    data: Annotated[
        list[Path], typer.Option("--data", help="Labelled JSON Lines file (repeatable)")
    ],
    destination: Annotated[
        str, typer.Option("--destination", help="Whose national lines the labels use")
    ] = "US",
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N rows")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Top-1 and top-5 accuracy at 2, 4, 6 and 10 digits, and latency per description."""
    dest = _destination(destination) or "US"
    sets = []
    for path in data:
        try:
            sets.append((path, read_examples(path)[:limit]))
        except (OSError, UnreadableData) as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    classifier = load_classifier()
    reports = [evaluate(classifier, rows, dest, str(path)) for path, rows in sets]
    if as_json:
        sys.stdout.write(json.dumps(reports if len(reports) > 1 else reports[0]) + "\n")
        return
    table = Table(title=f"HS classification accuracy ({classifier.model})")
    table.add_column("data")
    table.add_column("n")
    for level in ("2", "4", "6", "10"):
        table.add_column(f"{level}-digit top-1 / top-5")
    table.add_column("ms per description")
    for r in reports:
        acc = r["accuracy"]
        assert isinstance(acc, dict)
        lat = r["latency_ms"]
        assert isinstance(lat, dict)
        table.add_row(
            Path(str(r["data"])).name,
            str(r["examples"]),
            *(f"{acc[lv]['top1']:.1%} / {acc[lv]['top5']:.1%}" for lv in ("2", "4", "6", "10")),
            f"{lat['mean']:.1f}",
        )
    Console().print(table)
