"""The canonical filing's excise quantities: decoded, validated, and what the calculator needs."""

from __future__ import annotations

import pytest

from clearway.domain.filing import decode_filing, encode
from clearway.domain.validation import check_quote

from .factories import filing, item


@pytest.mark.parametrize(
    ("extra", "path", "code"),
    [
        ({"volume_litres": "-0.7"}, "/items/0/volume_litres", "range"),
        ({"volume_litres": "0"}, "/items/0/volume_litres", "range"),
        ({"volume_litres": "0.7", "alcohol_percent": "140"}, "/items/0/alcohol_percent", "range"),
        ({"alcohol_percent": "40"}, "/items/0/volume_litres", "required"),
        ({"tobacco_sticks": 0}, "/items/0/tobacco_sticks", "range"),
        ({"tobacco_grams": "-5"}, "/items/0/tobacco_grams", "range"),
        ({"volume_litres": "NaN"}, "/items/0/volume_litres", "not_a_number"),
    ],
)
def test_bad_excise_quantities_are_refused(extra: dict[str, object], path: str, code: str) -> None:
    doc = decode_filing(encode(filing("DE", items=[item("40.00", hs="220830", **extra)])))
    assert (path, code) in {(p.path, p.code) for p in check_quote(doc)}


def test_good_excise_quantities_pass() -> None:
    extra = {"volume_litres": "0.7", "alcohol_percent": "40", "tobacco_sticks": 20}
    doc = decode_filing(encode(filing("DE", items=[item("40.00", hs="220830", **extra)])))
    assert check_quote(doc) == []
    assert doc.items[0].alcohol_percent is not None and doc.items[0].tobacco_sticks == 20
