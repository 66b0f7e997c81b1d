"""`clearway risk …`: train and evaluate the targeting model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from clearway.risk.benchmark import read_declarations
from clearway.risk.evaluation import ranking_report
from clearway.risk.model import TargetingModel, train_model

app = typer.Typer(help="Risk targeting: train and evaluate the model.", no_args_is_help=True)

CsvOption = Annotated[Path, typer.Option(exists=True, dir_okay=False, readable=True)]


@app.command()
def train(
    train: CsvOption,
    out: Annotated[Path, typer.Option(file_okay=False, help="folder for the model files")],
    valid: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="validation CSV, for early stopping"),
    ] = None,
    seed: int = 0,
) -> None:
    """Train on a declarations CSV (Customs Import Declaration Datasets layout)."""
    frame, labels = read_declarations(train)
    valid_frame, valid_labels = read_declarations(valid) if valid else (None, None)
    model = train_model(frame, labels, valid_frame, valid_labels, seed=seed)
    model.save(out)
    typer.echo(
        f"model {model.version}: {model.metrics['trees']} trees, "
        f"{model.metrics['train_seconds']} s, written to {out}"
    )


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option(exists=True, file_okay=False, help="model folder")],
    test: CsvOption,
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
) -> None:
    """Rank a labelled test CSV with a trained model and report precision/recall at top n %."""
    targeting = TargetingModel.load(model)
    frame, labels = read_declarations(test)
    targeting.score_frame(frame.iloc[:100])  # warm up LightGBM before timing
    started = time.perf_counter()
    scores = targeting.score_frame(frame)
    seconds = time.perf_counter() - started
    report: dict[str, object] = dict(ranking_report(labels, np.asarray(scores)))
    report["train_seconds"] = targeting.metrics.get("train_seconds")
    report["score_rows_per_s"] = round(len(frame) / seconds) if seconds > 0 else None
    report["model_version"] = targeting.version
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        typer.echo(f"{key:>18}  {value}")
