from __future__ import annotations

import pytest

from clearway.revenue.assessor import PackAssessor


@pytest.fixture(scope="session")
def assessor() -> PackAssessor:
    return PackAssessor.load_default()
