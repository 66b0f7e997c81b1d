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
from clearway.risk import hs_fit, profiles
from clearway.risk.columns import Columns, identity_key
from clearway.risk.history import InMemoryHistory, SameDayKey, SameDayTotal
from clearway.risk.profiles import default_profiles
from clearway.risk.sanctions import default_list
from clearway.risk.selector import RiskSelector
from clearway.simulation.generator import TrafficGenerator
from clearway.wiring.services import classifier_for

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


# --- the risk step's decisions: compiled paths against plain per-row ones ------------------------

SPLIT_RATES = {
    "undervaluation": 0.1,
    "wrong_hs_code": 0.1,
    "vague_description": 0.05,
    "split_shipment": 0.4,
    "prohibited_goods": 0.05,
    "missing_registration": 0.05,
    "invalid_registration": 0.05,
    "bad_s10": 0.02,
}


def _plain_same_day(ctx: Any) -> Any:
    """Same-day totals row by row: a dict of groups, each summed on its own."""
    if "same_day" in ctx.cache:
        return ctx.cache["same_day"]
    cols = ctx.columns
    consignee = cols.consignment("consignee.identity")
    seller = cols.consignment("seller.identity")
    data_set = cols.consignment("data_set")
    value = cols.consignment("value_dest").astype(np.float64)
    same_currency = cols.consignment("currency") == cols.consignment("dest_currency")
    fallback = cols.consignment("value").astype(np.float64)
    value = np.where(np.isnan(value) & same_currency, fallback, value)
    groups: dict[SameDayKey, list[int]] = {}
    for row, r in enumerate(cols.inputs):
        if consignee[row] and seller[row] and data_set[row] != "pre_loading":
            key = SameDayKey(str(consignee[row]), str(seller[row]), r.legal_date)
            groups.setdefault(key, []).append(row)
    stored: Any = {}
    if ctx.history is not None and groups:
        ids = [r.consignment_id for r in cols.inputs]
        stored = ctx.history.same_day_totals(list(groups), exclude=ids)
    totals = np.full((cols.n, 2), np.nan)
    for key, rows in groups.items():
        before = stored.get(key, SameDayTotal())
        total = before.value + float(np.nansum(value[rows]))
        totals[rows] = (total, before.consignments + len(rows))
    ctx.cache["same_day"] = totals
    ctx.cache["same_day_value"] = value
    return totals


def _plain_hs_fit(scorer: Any, descriptions: Any, codes: Any, below: float, min_words: int) -> Any:
    """The HS-fit check row by row: every row's pair and every flagged row's suggestions."""
    mask = np.zeros(len(descriptions), dtype=bool)
    rows = [
        i
        for i, (d, h) in enumerate(zip(descriptions, codes, strict=True))
        if d and h and len(str(h)) >= 6 and scorer.informative(str(d)) >= min_words
    ]
    details: dict[int, str] = {}
    if not rows:
        return mask, details
    fits = scorer.fit_many([(str(descriptions[i]), str(codes[i])) for i in rows])
    flagged = [(i, f) for i, f in zip(rows, fits, strict=True) if f.chapter_probability < below]
    if not flagged:
        return mask, details
    found = scorer.suggest_many([str(descriptions[i]) for i, _ in flagged], None, 3)
    for (i, fit), suggestion in zip(flagged, found, strict=True):
        mask[i] = True
        best = ", ".join(f"{c.code} ({c.score:.0%})" for c in suggestion.candidates)
        details[i] = (
            f" (declared {fit.declared}: chapter {fit.declared[:2]} has "
            f"{fit.chapter_probability:.1%} for this description; suggested {best})"
        )
    return mask, details


@cache
def _classifier() -> Any:
    return classifier_for(None).get()


def _decision_batch(seed: int, n: int, shift: int) -> list[RiskInput]:
    """Generated traffic with planted violations; some parcels re-filed under a new id (the
    same consignee, seller and day twice in one batch)."""
    gen = TrafficGenerator(seed, rates=SPLIT_RATES)
    out: list[RiskInput] = []
    for parcel in gen.parcels(n):
        for raw in parcel.filings:
            doc = from_builtins(raw)
            if doc.legal_date:
                out.append(
                    RiskInput(f"cns_{seed}_{len(out)}", doc, doc.legal_date, "Shop", "platform")
                )
    for k in range(0, len(out), max(shift, 1)):
        r = out[k]
        out.append(msgspec.structs.replace(r, consignment_id=f"{r.consignment_id}_again"))
    return out


def _decide(batches: list[list[RiskInput]], history: InMemoryHistory) -> list[Any]:
    selector = RiskSelector.load_default(seed=3, sample_rate=0.05, history=history, fit=_classifier)
    return [selector.decide_batch(b) for b in batches]


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    n=st.integers(min_value=1, max_value=50),
    shift=st.integers(min_value=1, max_value=7),
    stored=st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.integers(min_value=1, max_value=4),
            st.floats(min_value=0, max_value=400, allow_nan=False),
        ),
        max_size=12,
    ),
)
def test_decisions_equal_the_plain_per_row_path(
    seed: int, n: int, shift: int, stored: list[tuple[int, int, float]]
) -> None:
    """Lanes, referrals, reasons (texts and weights), scores: the same through the compiled
    conditions (distinct values, grouped same-day totals, distinct HS-fit pairs) as through
    row-by-row ones; same-day totals from earlier batches (the history) and within a batch."""
    first, second = _decision_batch(seed, n, shift), _decision_batch(seed + 1, n, shift)
    history = InMemoryHistory()
    pool = first + second
    for pick, count, value in stored:  # earlier parcels of some consignee+seller+day
        r = pool[pick % len(pool)]
        doc = r.document
        if doc.consignee and doc.seller:
            key = SameDayKey(identity_key(doc.consignee), identity_key(doc.seller), r.legal_date)
            history.same_day[key] = SameDayTotal(count, value)
    fast = _decide([first, second], history)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(profiles, "_distinct", _every_row)
        m.setattr(profiles, "_same_day_totals", _plain_same_day)
        m.setattr(hs_fit, "check", _plain_hs_fit)
        plain = _decide([first, second], history)
    assert fast == plain
    hit = {r.code for batch in fast for d in batch for r in d.reasons}
    assume(len(hit) > 2)
