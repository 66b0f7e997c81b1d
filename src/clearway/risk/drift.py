"""Drift report: are recent scores and hit rates still like those the model was trained on?

Population stability index (PSI) over score deciles of the reference period: below 0.1 stable,
0.1-0.25 watch, above 0.25 retrain. Hit rates compare irregularities found among inspected
consignments, overall and in the top-scored tenth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DriftReport:
    psi: float
    status: str  # stable | watch | retrain
    reference_mean_score: float
    recent_mean_score: float
    reference_hit_rate: float | None
    recent_hit_rate: float | None
    reference_top_decile_hit_rate: float | None
    recent_top_decile_hit_rate: float | None


def psi(reference: FloatArray, recent: FloatArray, bins: int = 10) -> float:
    """Population stability index of `recent` against quantile bins of `reference`."""
    if len(reference) == 0 or len(recent) == 0:
        return 0.0
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    ref = np.histogram(reference, edges)[0] / len(reference)
    new = np.histogram(recent, edges)[0] / len(recent)
    ref, new = np.clip(ref, 1e-6, None), np.clip(new, 1e-6, None)
    return float(np.sum((new - ref) * np.log(new / ref)))


def _hit_rate(labels: IntArray | None, scores: FloatArray, top: bool) -> float | None:
    if labels is None or len(labels) == 0:
        return None
    if top:
        k = max(1, len(scores) // 10)
        labels = labels[np.argsort(-scores, kind="stable")[:k]]
    return float(labels.mean())


def drift_report(
    reference_scores: FloatArray,
    recent_scores: FloatArray,
    reference_labels: IntArray | None = None,
    recent_labels: IntArray | None = None,
) -> DriftReport:
    """Compare a reference period (training/validation) with recent traffic.

    Labels are inspection outcomes (1 irregular) of the same rows, when known.
    """
    value = psi(reference_scores, recent_scores)
    status = "stable" if value < 0.1 else "watch" if value < 0.25 else "retrain"
    return DriftReport(
        psi=round(value, 4),
        status=status,
        reference_mean_score=float(np.mean(reference_scores)) if len(reference_scores) else 0.0,
        recent_mean_score=float(np.mean(recent_scores)) if len(recent_scores) else 0.0,
        reference_hit_rate=_hit_rate(reference_labels, reference_scores, False),
        recent_hit_rate=_hit_rate(recent_labels, recent_scores, False),
        reference_top_decile_hit_rate=_hit_rate(reference_labels, reference_scores, True),
        recent_top_decile_hit_rate=_hit_rate(recent_labels, recent_scores, True),
    )
