"""Reading the labelled sets and scoring predictions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearway.classification.classifier import Classifier
from clearway.classification.evaluation import (
    Example,
    UnreadableData,
    evaluate,
    parse_row,
    read_examples,
)


def test_reads_atlas_chat_rows_with_one_or_several_codes(labelled: Path) -> None:
    rows = read_examples(labelled / "atlas_cross_rulings" / "validation.jsonl")
    assert len(rows) == 200
    first = rows[0]
    assert first.description.startswith("Polivac film composed of polyethylene terephthalate")
    assert first.codes == ("3920620000",)
    assert any(len(r.codes) > 1 for r in rows)  # "7307.19.9060; 7307.19.3060"-style rows


def test_reads_hscodecomp_listings_with_their_categories(labelled: Path) -> None:
    rows = read_examples(labelled / "hscodecomp" / "test_data.jsonl")
    assert len(rows) == 632
    assert rows[0].codes == ("7117199000",)
    assert "Category: Jewelry & Accessories > Fashion Jewelry > Pendants" in rows[0].description
    assert "Metals Type: Copper" in rows[0].description


def test_plain_rows_and_unknown_layouts() -> None:
    assert parse_row({"description": "tea", "code": "0902.10"}) == Example("tea", ("090210",))
    with pytest.raises(UnreadableData):
        parse_row({"title": "tea"})


def test_unreadable_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"description": "tea", "code": "090210"}) + "\n{oops\n")
    with pytest.raises(UnreadableData, match=r"bad\.jsonl:2"):
        read_examples(bad)


def test_evaluate_counts_hits_per_level(classifier: Classifier) -> None:
    best = classifier.suggest("lithium-ion accumulators", "US").candidates[0]
    national = best.national[0].code
    examples = [
        Example("lithium-ion accumulators", (national,)),  # right to 10 digits
        Example("lithium-ion accumulators", (best.code[:4] + "99" + "0000",)),  # heading only
    ]
    report = evaluate(classifier, examples, "US", "unit")
    acc = report["accuracy"]
    assert isinstance(acc, dict)
    assert acc["4"]["top1"] == 1.0
    assert acc["6"]["top1"] == 0.5
    assert acc["10"]["top1"] == 0.5
    assert report["examples"] == 2
