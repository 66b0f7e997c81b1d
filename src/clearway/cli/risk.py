"""`clearway risk …`: train and evaluate the targeting model; retrain on stored inspection
outcomes and report drift."""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer
from sqlalchemy import Engine

from clearway.domain.ports import RiskInput
from clearway.risk.benchmark import read_declarations
from clearway.risk.columns import Columns
from clearway.risk.drift import drift_report
from clearway.risk.evaluation import ranking_report
from clearway.risk.features import frame_from_columns
from clearway.risk.history import EntityStat, HistoryProvider, SameDayKey, SameDayTotal
from clearway.risk.model import TargetingModel, train_model
from clearway.storage.engine import make_engine
from clearway.storage.history import (
    SqlHistory,
    inspection_outcomes,
    latest_outcomes,
    recent_consignments,
)
from clearway.wiring.settings import Settings

app = typer.Typer(
    help="Risk targeting: train, evaluate and retrain the model; drift.", no_args_is_help=True
)

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


# --- the product's own inspection outcomes -------------------------------------------------------

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="database URL (default: CLEARWAY_DATABASE_URL)"),
]
DRIFT_REFERENCE = "drift_reference.json"  # written by retrain next to the model files


def _engine(database: str | None) -> Engine:
    return make_engine(database or Settings().database_url)


def _consignment_scores(
    targeting: TargetingModel, inputs: list[RiskInput], history: HistoryProvider | None
) -> npt.NDArray[np.float64]:
    if not inputs:
        return np.zeros(0, dtype=np.float64)
    return targeting.score_inputs(Columns(inputs), history)[0]


class _TrafficWithTrainingLabels:
    """History for rescoring past traffic: traffic facts (reference prices, descriptions seen)
    from the database, irregularity counts from the model's training labels only, so that a
    recent consignment's own inspection outcome never feeds its score."""

    def __init__(self, traffic: SqlHistory, labels: HistoryProvider) -> None:
        self.traffic = traffic
        self.labels = labels

    def entity_stats(self, kind: str, keys: Collection[str]) -> Mapping[str, EntityStat]:
        source = self.traffic if kind in ("description", "description+hs2") else self.labels
        return source.entity_stats(kind, keys)

    def reference_unit_prices(self, hs6: Collection[str], currency: str) -> Mapping[str, float]:
        return self.traffic.reference_unit_prices(hs6, currency)

    def same_day_totals(
        self, keys: Collection[SameDayKey], exclude: Collection[str] = ()
    ) -> Mapping[SameDayKey, SameDayTotal]:
        return self.traffic.same_day_totals(keys, exclude)


@app.command()
def retrain(
    out: Annotated[Path, typer.Option(file_okay=False, help="folder for the model files")],
    database: DatabaseOption = None,
    valid_share: Annotated[
        float, typer.Option(min=0.05, max=0.5, help="latest inspections kept for early stopping")
    ] = 0.2,
    seed: int = 0,
) -> None:
    """Train on the stored inspection outcomes (label = irregularity found).

    Features come from the stored canonical documents through the same path as scoring; the
    latest `valid_share` of inspections only stops the boosting early and becomes the drift
    reference (their scores and outcomes)."""
    engine = _engine(database)
    try:
        history = SqlHistory(engine)
        inputs, labels = inspection_outcomes(engine)
        positives = sum(labels)
        if len(inputs) < 50 or positives < 5 or positives == len(labels):
            raise typer.BadParameter(
                f"{len(inputs)} inspected consignments, {positives} irregular: need at least 50 "
                "with at least 5 irregular and some clean"
            )
        cut = int(len(inputs) * (1 - valid_share))
        train_in, valid_in = inputs[:cut], inputs[cut:]
        y = np.asarray(labels, dtype=np.int64)
        train_cols, valid_cols = Columns(train_in), Columns(valid_in)
        model = train_model(
            frame_from_columns(train_cols, history),
            y[:cut][train_cols.item_owner],
            frame_from_columns(valid_cols, history),
            y[cut:][valid_cols.item_owner],
            seed=seed,
        )
        model.save(out)
        rescoring = _TrafficWithTrainingLabels(history, model.history)
        reference = {
            "scores": _consignment_scores(model, valid_in, rescoring).round(6).tolist(),
            "labels": labels[cut:],
        }
        (out / DRIFT_REFERENCE).write_text(json.dumps(reference), "utf-8")
    finally:
        engine.dispose()
    valid = model.metrics.get("valid", {})
    typer.echo(
        f"model {model.version}: {len(train_in)} consignments ({int(y[:cut].sum())} irregular) "
        f"for training, {len(valid_in)} for early stopping; {model.metrics['trees']} trees; "
        f"validation precision@10 {valid.get('precision@10')} auc {valid.get('auc')}; "
        f"written to {out}"
    )


@app.command()
def drift(
    model: Annotated[Path, typer.Option(exists=True, file_okay=False, help="model folder")],
    database: DatabaseOption = None,
    days: Annotated[int, typer.Option(min=1, help="recent = the last N days of traffic")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Compare recent score and hit-rate distributions with those at training (retrain)."""
    reference_path = model / DRIFT_REFERENCE
    if not reference_path.exists():
        raise typer.BadParameter(f"{model} has no {DRIFT_REFERENCE}: retrain writes it")
    reference = json.loads(reference_path.read_text("utf-8"))
    targeting = TargetingModel.load(model)
    engine = _engine(database)
    try:
        history = _TrafficWithTrainingLabels(SqlHistory(engine), targeting.history)
        recent = recent_consignments(engine, days)
        outcomes = latest_outcomes(engine)
        scores = _consignment_scores(targeting, recent, history)
    finally:
        engine.dispose()
    inspected = np.asarray([r.consignment_id in outcomes for r in recent], dtype=bool)
    recent_labels = np.asarray(
        [outcomes[r.consignment_id] for r in recent if r.consignment_id in outcomes],
        dtype=np.int64,
    )
    ref_scores = np.asarray(reference["scores"], dtype=np.float64)
    ref_labels = np.asarray(reference["labels"], dtype=np.int64)
    population = drift_report(ref_scores, scores)
    hits = drift_report(ref_scores, scores[inspected], ref_labels, recent_labels)
    report: dict[str, object] = {
        "model_version": targeting.version,
        "reference_consignments": len(ref_scores),
        "recent_consignments": len(recent),
        "recent_inspected": int(inspected.sum()),
        **{k: v for k, v in asdict(population).items() if "hit_rate" not in k},
        **{k: v for k, v in asdict(hits).items() if "hit_rate" in k},
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    for key, value in report.items():
        typer.echo(f"{key:>32}  {value}")
