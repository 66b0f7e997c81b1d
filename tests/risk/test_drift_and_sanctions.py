from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clearway.risk.drift import drift_report, psi
from clearway.risk.evaluation import precision_at, recall_at, roc_auc
from clearway.risk.sanctions import ListedName, SanctionsList, default_list


def test_same_distribution_is_stable_and_shift_says_retrain() -> None:
    rng = np.random.default_rng(0)
    ref = rng.beta(2, 8, 5000)
    same = drift_report(ref, rng.beta(2, 8, 5000))
    shifted = drift_report(ref, rng.beta(6, 4, 5000))
    assert same.status == "stable"
    assert shifted.status == "retrain" and shifted.psi > 0.25
    assert shifted.recent_mean_score > same.recent_mean_score


def test_drift_hit_rates_use_inspection_outcomes() -> None:
    scores = np.linspace(0, 1, 100)
    labels = (scores > 0.9).astype(np.int64)
    report = drift_report(scores, scores, labels, labels)
    assert report.recent_top_decile_hit_rate == 1.0
    assert report.recent_hit_rate is not None and abs(report.recent_hit_rate - 0.1) < 0.011


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=5, max_size=200))
def test_psi_of_a_sample_with_itself_is_zero(values: list[float]) -> None:
    arr = np.asarray(values)
    assert psi(arr, arr) < 1e-9


def test_ranking_metrics_on_a_known_case() -> None:
    labels = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1] * 10, dtype=np.int64)
    perfect = labels.astype(np.float64)
    assert precision_at(labels, perfect, 10) == 1.0
    assert recall_at(labels, perfect, 10) == 10 / 30
    assert roc_auc(labels, perfect) == 1.0
    assert roc_auc(labels, np.zeros(100)) == 0.5  # all ties: no information


def test_fuzzy_match_tolerates_order_punctuation_and_a_typo() -> None:
    names = SanctionsList([ListedName("ACME ROCKET WORKS LLC", "entity", "TEST", "1")])
    assert names.match("Acme Rocket Works") is not None
    assert names.match("WORKS, ACME ROCKET (L.L.C.)") is not None
    assert names.match("Acme Rockett Works") is not None
    assert names.match("Acme Bakery") is None


def test_shipped_list_is_built_from_the_official_sources() -> None:
    listed = default_list()
    assert len(listed) > 15_000
    hit = listed.match("Banco Nacional de Cuba")
    assert hit is not None and hit.source == "OFAC-SDN"
