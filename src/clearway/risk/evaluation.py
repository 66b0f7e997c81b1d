"""Ranking metrics for targeting: precision and recall in the top n % of traffic, ROC AUC."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def top_k(scores: FloatArray, percent: float) -> IntArray:
    """Indices of the top `percent` % rows by score, k = int(N * percent / 100)."""
    k = int(len(scores) * percent / 100)
    return np.argsort(-scores, kind="stable")[:k]


def precision_at(labels: IntArray, scores: FloatArray, percent: float) -> float:
    """Share of irregular rows among the top `percent` % by score."""
    idx = top_k(scores, percent)
    return float(labels[idx].mean()) if len(idx) else 0.0


def recall_at(labels: IntArray, scores: FloatArray, percent: float) -> float:
    """Share of all irregular rows that fall in the top `percent` %."""
    total = int(labels.sum())
    return float(labels[top_k(scores, percent)].sum() / total) if total else 0.0


def roc_auc(labels: IntArray, scores: FloatArray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties get average ranks)."""
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, start, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ranking_report(labels: IntArray, scores: FloatArray) -> dict[str, float]:
    report = {f"precision@{p}": precision_at(labels, scores, p) for p in (1, 2, 5, 10)}
    report.update({f"recall@{p}": recall_at(labels, scores, p) for p in (1, 2, 5, 10)})
    report["auc"] = roc_auc(labels, scores)
    report["rows"] = float(len(labels))
    report["positive_rate"] = float(labels.mean()) if len(labels) else 0.0
    return {k: round(v, 6) for k, v in report.items()}
