"""Declaration periods are strict YYYY-MM everywhere: a look-alike period cannot hide lines."""

from __future__ import annotations

import pytest

from clearway.accounts.service import month_bounds
from clearway.kernel.errors import InvalidInput


@pytest.mark.parametrize(
    "period", ["2026-11 ", "2026-1", "2026-13", "26-11", "2026/11", "", "9999-12", "0001-01"]
)
def test_look_alike_periods_are_refused(period: str) -> None:
    with pytest.raises(InvalidInput):
        month_bounds(period)


def test_a_month_is_its_first_instant_to_the_next() -> None:
    start, end = month_bounds("2026-12")
    assert (start.year, start.month, end.year, end.month) == (2026, 12, 2027, 1)
