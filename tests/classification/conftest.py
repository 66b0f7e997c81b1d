"""One classifier for the whole session: the real model, the real index, the shipped packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearway.classification.classifier import Classifier
from clearway.wiring.services import classifier_for

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return classifier_for(None).get()


@pytest.fixture(scope="session")
def labelled() -> Path:
    folder = SHARED / "hs_labelled"
    if not folder.is_dir():
        pytest.fail(f"the labelled HS sets are missing: expected {folder} (../shared/data)")
    return folder
