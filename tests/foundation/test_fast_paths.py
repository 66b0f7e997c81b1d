"""The hot path's shortcuts give the answers of the plain per-field path they stand in for.

Generated traffic with planted characters (unsafe ones and harmless ones) in any text field:
validation with the one-scan shortcut reports exactly what the field-by-field walk reports.
Generated batches: risk profiles searching each distinct text once hit what searching every row
hits.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from clearway.domain import validation
from clearway.domain.filing import FilingDocument, encode, from_builtins
from clearway.domain.ports import RiskInput
from clearway.risk import profiles
from clearway.risk.columns import Columns
from clearway.risk.profiles import default_profiles
from clearway.risk.sanctions import default_list
from clearway.simulation.generator import TrafficGenerator

UNSAFE = ["\x00", "\x01", "\x1f", "\x7f", "\x85", "\u061c", "\u200e", "\u202e", "\u2066"]
UNSAFE += ["\ud800", "\ufdd0", "\uffff"]
HARMLESS = ["é", "\t", "\n", '"', "\\", "\u2028", "\U0001f600", "\\u202e"]
SERVED = frozenset({"DE", "FR", "GB", "US", "AU", "CN", "IE", "ES", "AT", "CH"})


@cache
def _traffic() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for parcel in TrafficGenerator(7).parcels(40):
        docs += [msgspec.to_builtins(d) for d in parcel.filings]
    return docs


def _text_paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _text_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _text_paths(v, (*path, i))]
    return []


def _plant(doc: dict[str, Any], path: tuple[Any, ...], at: float, char: str) -> None:
    holder = doc
    for key in path[:-1]:
        holder = holder[key]
    text = holder[path[-1]]
    cut = int(at * len(text))
    holder[path[-1]] = text[:cut] + char + text[cut:]


def _walked(doc: FilingDocument) -> list[Any]:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(validation, "_texts_safe", lambda *_: False)  # the plain walk, always
        return validation.check_filing(doc, served=SERVED)


@settings(max_examples=150, deadline=None)
@given(
    which=st.integers(min_value=0),
    field=st.integers(min_value=0),
    at=st.floats(min_value=0, max_value=1),
    char=st.sampled_from(UNSAFE + HARMLESS),
    times=st.integers(min_value=0, max_value=2),
)
def test_one_scan_reports_what_the_field_walk_reports(
    which: int, field: int, at: float, char: str, times: int
) -> None:
    docs = _traffic()
    raw = copy.deepcopy(docs[which % len(docs)])
    paths = _text_paths(raw)
    for n in range(times):
        _plant(raw, paths[(field + n) % len(paths)], at, char)
    try:
        doc = from_builtins(raw)
        reference = _walked(doc)
    except (msgspec.ValidationError, KeyError, UnicodeEncodeError):  # a code field: refused
        # before validation by every format
        assume(False)
        return
    try:
        encoded: bytes | None = encode(doc)
    except UnicodeEncodeError:
        encoded = None
    fast = validation.check_filing(doc, served=SERVED, encoded=encoded)
    assert fast == validation.check_filing(doc, served=SERVED)
    assert fast == reference
    if times and char in UNSAFE:
        assert any(p.code == "unsafe_character" for p in fast)


def _risk_batch(seed: int, n: int) -> list[RiskInput]:
    out: list[RiskInput] = []
    for parcel in TrafficGenerator(seed).parcels(n):
        for raw in parcel.filings:
            doc = from_builtins(raw)
            if doc.items and doc.legal_date:
                out.append(RiskInput(f"cns_{len(out)}", doc, doc.legal_date, "Shop", "platform"))
    return out


def _hits(batch: list[RiskInput]) -> list[tuple[str, list[int]]]:
    found, _ = default_profiles().evaluate(
        Columns(batch), history=None, sanctions=default_list(), fit=None
    )
    return [(p.id, np.flatnonzero(mask).tolist()) for p, mask in found]


def _every_row(ctx: Any, name: str) -> tuple[list[Any], Any]:
    col = ctx.columns.item(name).astype(object)
    return list(col), np.arange(len(col))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000), n=st.integers(min_value=1, max_value=60))
def test_profiles_on_distinct_texts_hit_what_row_by_row_search_hits(seed: int, n: int) -> None:
    batch = _risk_batch(seed, n)
    fast = _hits(batch)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(profiles, "_distinct", _every_row)  # every row searched on its own
        assert fast == _hits(batch)
