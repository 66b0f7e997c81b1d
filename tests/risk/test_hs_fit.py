"""DQ-HS-INCONSISTENT: the HS classifier checks that a declared code fits its description."""

from __future__ import annotations

import pytest
from risk_factories import make_input, make_item

from clearway.classification.classifier import Classifier
from clearway.risk.profiles import ProfileError, parse_profiles
from clearway.risk.selector import RiskSelector
from clearway.wiring.services import classifier_for

PROFILE = "DQ-HS-INCONSISTENT"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return classifier_for(None).get()


@pytest.fixture(scope="module")
def selector(classifier: Classifier) -> RiskSelector:
    return RiskSelector.load_default(seed=0, sample_rate=0.0, fit=lambda: classifier)


def _codes(decision: object) -> dict[str, str]:
    return {r.code: r.text for r in getattr(decision, "reasons", [])}


def test_a_code_from_another_chapter_is_flagged_with_the_suggested_codes(
    selector: RiskSelector,
) -> None:
    wrong, right, vague = selector.decide_batch(
        [
            make_input(1, items=[make_item("Women's cotton T-shirt, printed", "870899")]),
            make_input(2, items=[make_item("Women's cotton T-shirt, printed", "610910")]),
            make_input(3, items=[make_item("gift", "870899")]),
        ]
    )
    reasons = _codes(wrong)
    assert PROFILE in reasons
    text = reasons[PROFILE]
    assert "declared 870899" in text and "suggested 61" in text
    assert PROFILE not in _codes(right)
    assert PROFILE not in _codes(vague)  # too vague to judge: DQ-VAGUE-DESCRIPTION's business


def test_a_batch_is_scored_in_one_call_and_cached_per_description(
    classifier: Classifier, selector: RiskSelector
) -> None:
    calls: list[int] = []
    original = classifier.fit_many

    class Counting:
        def fit_many(self, pairs: list[tuple[str, str]]) -> list[object]:
            calls.append(len(pairs))
            return list(original(pairs))

        def __getattr__(self, name: str) -> object:
            return getattr(classifier, name)

    counted = RiskSelector.load_default(seed=0, sample_rate=0.0, fit=Counting)
    inputs = [
        make_input(i, items=[make_item("Stainless steel kitchen knife", "821191")])
        for i in range(40)
    ]
    decisions = counted.decide_batch(inputs)
    assert len(decisions) == 40 and calls == [1]  # one call, each distinct pair once
    assert all(PROFILE not in _codes(d) for d in decisions)


def test_a_profile_without_a_threshold_is_refused_at_load() -> None:
    bad = {
        "profiles": [
            {"id": "X", "owner": "t", "reason": "r", "when": [{"hs_fit": {"min_words": 2}}]}
        ]
    }
    with pytest.raises(ProfileError, match="hs_fit needs"):
        parse_profiles(bad, "test.yaml")
    bad["profiles"][0]["when"] = [{"hs_fit": {"below": 3}}]
    with pytest.raises(ProfileError, match="probability"):
        parse_profiles(bad, "test.yaml")
