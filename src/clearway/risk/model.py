"""The targeting model: LightGBM trees over `clearway.risk.features`, saved without pickles.

A model folder holds:
- `model.txt`     LightGBM's own text model;
- `manifest.json` version, feature spec (names, vocabularies, key groups, prior), parameters;
- `metrics.json`  training facts and validation metrics;
- `history.json`  the history counted from the training labels (key group -> key -> counts),
                  used for scoring when no live HistoryProvider is given.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd

from clearway.domain.decision import Contribution
from clearway.risk.columns import Columns
from clearway.risk.evaluation import ranking_report
from clearway.risk.features import (
    FeatureSpec,
    build_matrix,
    frame_from_columns,
    history_from_labels,
    kind_of,
    make_spec,
    out_of_fold_matrix,
)
from clearway.risk.history import HistoryProvider, InMemoryHistory

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "num_threads": 2,
    "seed": 0,
    "deterministic": True,
    "verbose": -1,
}
PREDICT_THREADS = 2
CONTRIBUTION_THRESHOLD = 0.3  # contributions are computed for scores at least this high


@dataclass
class TargetingModel:
    booster: lgb.Booster
    spec: FeatureSpec
    history: InMemoryHistory
    version: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    # -- scoring --------------------------------------------------------------------------------

    def history_kinds(self) -> frozenset[str]:
        """The entity kinds scoring asks a live history provider for: the key groups, and the
        descriptions the `hs_share` feature counts."""
        return frozenset(kind_of(g) for g in self.spec.groups) | {"description", "description+hs2"}

    def matrix(self, frame: pd.DataFrame, history: HistoryProvider | None = None) -> FloatArray:
        return build_matrix(frame, self.spec, history if history is not None else self.history)

    def score_frame(
        self, frame: pd.DataFrame, history: HistoryProvider | None = None
    ) -> FloatArray:
        """Probability of an irregularity per frame row."""
        if len(frame) == 0:
            return np.zeros(0, dtype=np.float64)
        scores: FloatArray = np.asarray(
            self.booster.predict(self.matrix(frame, history), num_threads=PREDICT_THREADS),
            dtype=np.float64,
        )
        return scores

    def contributions(self, matrix: FloatArray, top: int = 3) -> list[list[Contribution]]:
        """The `top` features pushing each row's score most (SHAP values, log-odds)."""
        if len(matrix) == 0:
            return []
        contrib = np.asarray(self.booster.predict(matrix, pred_contrib=True))[:, :-1]
        out: list[list[Contribution]] = []
        for row, values in zip(matrix, contrib, strict=True):
            best = np.argsort(-np.abs(values))[:top]
            out.append(
                [
                    Contribution(
                        feature=self.spec.names[j],
                        value=f"{row[j]:.6g}",
                        contribution=round(float(values[j]), 4),
                    )
                    for j in best
                ]
            )
        return out

    def score_inputs(
        self, columns: Columns, history: HistoryProvider | None
    ) -> tuple[FloatArray, list[list[Contribution]]]:
        """Per consignment: the score of its riskiest item, and that item's contributions."""
        frame = frame_from_columns(columns, history if history is not None else self.history)
        matrix = self.matrix(frame, history)
        item_scores = np.asarray(
            self.booster.predict(matrix, num_threads=PREDICT_THREADS), dtype=np.float64
        )
        owner = columns.item_owner
        scores = np.zeros(columns.n, dtype=np.float64)
        np.maximum.at(scores, owner, item_scores)
        best_row = np.full(columns.n, -1, dtype=np.int64)
        for row in np.argsort(item_scores, kind="stable"):  # the highest score wins last
            best_row[owner[row]] = row
        contributions: list[list[Contribution]] = [[] for _ in range(columns.n)]
        wanted = np.flatnonzero(scores >= CONTRIBUTION_THRESHOLD)
        if len(wanted):
            for cons, contrib in zip(
                wanted, self.contributions(matrix[best_row[wanted]]), strict=True
            ):
                contributions[cons] = contrib
        return scores, contributions

    # -- files ----------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / "model.txt"))
        manifest = {
            "format": "clearway-risk-model/1",
            "version": self.version,
            "features": self.spec.to_json(),
            "params": self.params,
            "files": ["model.txt", "manifest.json", "metrics.json", "history.json"],
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        (folder / "metrics.json").write_text(json.dumps(self.metrics, indent=2), "utf-8")
        (folder / "history.json").write_text(json.dumps(self.history.to_json()), "utf-8")

    @classmethod
    def load(cls, folder: Path) -> TargetingModel:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if manifest.get("format") != "clearway-risk-model/1":
            raise ValueError(f"{folder}: not a clearway risk model folder")
        booster = lgb.Booster(model_file=str(folder / "model.txt"))
        history = InMemoryHistory.from_json(
            json.loads((folder / "history.json").read_text("utf-8"))
        )
        history.prepare()
        metrics_path = folder / "metrics.json"
        metrics = json.loads(metrics_path.read_text("utf-8")) if metrics_path.exists() else {}
        return cls(
            booster=booster,
            spec=FeatureSpec.from_json(manifest["features"]),
            history=history,
            version=str(manifest["version"]),
            params=dict(manifest.get("params", {})),
            metrics=metrics,
        )


def train_model(
    train: pd.DataFrame,
    labels: IntArray,
    valid: pd.DataFrame | None = None,
    valid_labels: IntArray | None = None,
    *,
    params: dict[str, Any] | None = None,
    folds: int = 5,
    seed: int = 0,
    max_rounds: int = 2000,
    early_stopping_rounds: int = 100,
) -> TargetingModel:
    """Train on a risk frame (one row per item) with 0/1 labels; `valid` only stops early.

    History features of training rows are out-of-fold; validation rows read the history of all
    training labels, exactly as later traffic will. Valid labels never enter any feature.
    """
    started = time.perf_counter()
    labels = np.asarray(labels, dtype=np.int64)
    spec = make_spec(train, labels)
    x_train = out_of_fold_matrix(train, labels, spec, folds=folds, seed=seed)
    history = history_from_labels(train, labels, spec.groups)
    history.prepare()
    run_params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    dtrain = lgb.Dataset(x_train, labels, feature_name=spec.names, free_raw_data=True)
    callbacks: list[Callable[..., Any]] = []
    valid_sets = []
    if valid is not None and valid_labels is not None and len(valid):
        x_valid = build_matrix(valid, spec, history)
        valid_sets.append(lgb.Dataset(x_valid, np.asarray(valid_labels), reference=dtrain))
        callbacks.append(lgb.early_stopping(early_stopping_rounds, verbose=False))
    booster = lgb.train(
        run_params,
        dtrain,
        num_boost_round=max_rounds if valid_sets else 300,
        valid_sets=valid_sets,
        callbacks=callbacks,
    )
    if valid_sets:
        booster.best_iteration = booster.best_iteration or booster.current_iteration()
        booster = lgb.Booster(
            model_str=booster.model_to_string(num_iteration=booster.best_iteration)
        )
    train_seconds = time.perf_counter() - started
    text = booster.model_to_string()
    version = f"lgbm-{datetime.now(UTC):%Y%m%d}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    metrics: dict[str, Any] = {
        "train_rows": len(train),
        "train_positive_rate": float(labels.mean()) if len(labels) else 0.0,
        "trees": booster.num_trees(),
        "train_seconds": round(train_seconds, 3),
    }
    model = TargetingModel(booster, spec, history, version, run_params, metrics)
    if valid is not None and valid_labels is not None and len(valid):
        metrics["valid"] = ranking_report(
            np.asarray(valid_labels, dtype=np.int64), model.score_frame(valid)
        )
    return model
