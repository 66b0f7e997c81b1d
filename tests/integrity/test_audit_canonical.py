"""The audit record's canonical text is the same whichever encoder writes it: stored hashes hold."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clearway.storage import audit

_leaf = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
_values = st.recursive(
    _leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _reference(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), _values, max_size=6))
def test_canonical_text_is_json_dumps_sorted(value: dict[str, Any]) -> None:
    assert audit.canonical(value) == _reference(value)


def test_exponent_floats_and_huge_integers_keep_the_reference_text() -> None:
    value = {"a": 1e16, "b": 1e-05, "c": 2**70, "d": [0.1, '\u202e\x01"\\']}
    assert audit.canonical(value) == _reference(value)
