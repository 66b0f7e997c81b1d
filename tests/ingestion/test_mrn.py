from __future__ import annotations

import pytest

from clearway.ingestion.dms import mrn


def test_check_digit_is_iso_6346() -> None:
    # the standard's own example: container CSQU 305438, check digit 3
    assert mrn.check_digit("CSQU305438") == 3
    # a sum that is 10 modulo 11 counts as 0
    assert all(0 <= mrn.check_digit(f"26DK{n:012d}R") <= 9 for n in range(200))


def test_mrn_has_the_union_shape() -> None:
    number = mrn.for_consignment("cns_01JABCDEF", 2026, "dk")
    assert len(number) == 18
    assert number[:4] == "26DK" and number[16] == "R"
    assert number[4:16].isalnum() and number[4:16].upper() == number[4:16]
    assert mrn.is_valid(number)
    assert mrn.for_consignment("cns_01JABCDEF", 2026, "DK") == number  # stable
    assert mrn.for_consignment("cns_01JABCDEG", 2026, "DK") != number


@pytest.mark.parametrize("bad", ["", "26DK", "26DK000000000001R0x", "26dk000000000001R1"])
def test_malformed_mrns_are_not_valid(bad: str) -> None:
    assert not mrn.is_valid(bad)


def test_a_wrong_check_digit_is_caught() -> None:
    number = mrn.make(26, "DK", "ABCDEF123456")
    wrong = number[:17] + str((int(number[17]) + 1) % 10)
    assert mrn.is_valid(number) and not mrn.is_valid(wrong)
