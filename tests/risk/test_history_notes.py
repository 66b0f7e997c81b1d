"""The database history counts the batches the pipeline decides from memory, with the answers
of reading them back: generated traffic (planted violations, pre-loading filings amended to full
ones, split shipments) filed on SQLite and PostgreSQL, then two processes filing into one
PostgreSQL database at once. Each time, a fresh provider that decodes every stored consignment
(and counts every kind from the start) is the reference.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import structs
from sqlalchemy import select

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.domain.ports import RiskInput
from clearway.risk.columns import Columns, description_key
from clearway.risk.features import HISTORY_GROUPS, frame_from_columns, group_keys, kind_of
from clearway.risk.history import KEY_SEPARATOR
from clearway.risk.history_keys import ALL_KINDS, entity_keys
from clearway.risk.selector import RiskSelector
from clearway.simulation.generator import TrafficGenerator
from clearway.storage.history import SqlHistory, id_floor, stored_inputs
from clearway.storage.tables import consignments
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

RATES = {  # every planted violation often, so that batches are full of hits
    "undervaluation": 0.1,
    "wrong_hs_code": 0.05,
    "vague_description": 0.05,
    "split_shipment": 0.3,
    "prohibited_goods": 0.05,
    "missing_registration": 0.03,
    "invalid_registration": 0.03,
    "bad_s10": 0.02,
}


def _filings(seed: int, parcels: int) -> list[dict[str, Any]]:
    gen = TrafficGenerator(seed, rates=RATES)
    return [msgspec.to_builtins(d) for p in gen.parcels(parcels) for d in p.filings]


def _history(services: Services) -> SqlHistory:
    selector = services.selector
    assert isinstance(selector, RiskSelector) and isinstance(selector.history, SqlHistory)
    return selector.history


def _file(services: Services, docs: list[dict[str, Any]], batch: int) -> None:
    operator = services.operators.ensure("Mercato Global", "platform")
    filer = Filer(operator, "Mercato Global", "platform")
    for i in range(0, len(docs), batch):
        services.pipeline.process(
            filer, [Submission(from_builtins(d)) for d in docs[i : i + batch]]
        )


def _state(history: SqlHistory, kinds: list[str]) -> dict[str, Any]:
    """What the provider answers from: counts per kind, and price observations per key (as a
    multiset: the windows here never fill up)."""
    history.refresh(force=True)
    counts = {k: {key: list(v) for key, v in history._counts.get(k, {}).items()} for k in kinds}
    prices = {f"{c}/{h}": sorted(w) for (c, h), w in history._prices.items()}
    assert all(len(w) < history.price_window for w in prices.values())
    return {"counts": counts, "prices": prices}


def _reference(url: str, kinds: list[str]) -> dict[str, Any]:
    """Every stored consignment decoded and counted, every kind from the start."""
    services = build(Settings(database_url=url, sample_rate=0.0), migrate=False)
    try:
        fresh = SqlHistory(services.engine)
        for kind in kinds:
            fresh.entity_stats(kind, [])
        assert fresh.noted_hits == 0
        return _state(fresh, kinds)
    finally:
        services.close()


# --- the keys --------------------------------------------------------------------------------


def _plain_keys(columns: Columns) -> dict[str, Any]:
    """Every kind's keys the straightforward way: the whole risk frame, then each group."""
    frame = frame_from_columns(columns)
    keys: dict[str, Any] = {kind_of(g): group_keys(frame, g) for g in HISTORY_GROUPS}
    keys["consignee"] = [str(v) if v else "" for v in columns.item("consignee.key")]
    keys["consignor"] = [str(v) if v else "" for v in columns.item("consignor.key")]
    keys["filer"] = [str(v) if v else "" for v in columns.item("filer")]
    keys["carrier"] = frame["carrier"].to_numpy(dtype=object)
    keys["route"] = [str(v) if v else "" for v in columns.item("route")]
    description = [str(v) if v else "" for v in columns.item("item.description_key")]
    keys["description"] = description
    keys["description+hs2"] = [
        f"{d}{KEY_SEPARATOR}{str(h)[:2]}" if d and str(h)[:2] else ""
        for d, h in zip(description, columns.item("item.hs6"), strict=True)
    ]
    return {k: list(v) for k, v in keys.items()}


def _inputs(seed: int, parcels: int, role: str) -> list[RiskInput]:
    out = []
    for n, raw in enumerate(_filings(seed, parcels)):
        doc = from_builtins(raw)
        if doc.legal_date is not None:
            out.append(RiskInput(f"cns_{n}", doc, doc.legal_date, "Carrier", role))
    return out


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    parcels=st.integers(min_value=1, max_value=40),
    kinds=st.sets(st.sampled_from(ALL_KINDS)),
    role=st.sampled_from(["platform", "carrier", "post"]),
)
def test_keys_of_the_kinds_asked_for_are_the_frames(
    seed: int, parcels: int, kinds: set[str], role: str
) -> None:
    columns = Columns(_inputs(seed, parcels, role))
    plain = _plain_keys(columns)
    assert set(plain) == set(ALL_KINDS)
    assert {k: list(v) for k, v in entity_keys(columns).items()} == plain
    some = entity_keys(Columns(columns.inputs), kinds)
    assert {k: list(v) for k, v in some.items()} == {k: plain[k] for k in kinds}


# --- one process -----------------------------------------------------------------------------


def _shadow(history: SqlHistory, monkeypatch: pytest.MonkeyPatch) -> SqlHistory:
    """A provider without notes that counts every kind, looking whenever `history` looks (the
    same stored state in one process): what reading the batches back gives."""
    shadow = SqlHistory(history.engine)
    looked = history.refresh

    def refresh(*, force: bool = False) -> None:
        before = history._checked
        looked(force=force)
        if history._checked != before:
            shadow.refresh(force=True)

    monkeypatch.setattr(history, "refresh", refresh)
    return shadow


def test_decided_batches_counted_from_memory_as_read_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = build(Settings(database_url=db_url, sample_rate=0.0))
    try:
        history = _history(services)
        # the shipped profiles look up descriptions only (no model loaded)
        assert history._kinds == {"description", "description+hs2"}
        shadow = _shadow(history, monkeypatch)
        history.max_age = 0.0  # a look at every batch
        docs = _filings(3, 160)
        _file(services, docs[: len(docs) // 2], 40)
        # kinds asked for later are counted over what was taken in so far, then kept current
        for kind in ALL_KINDS:
            history.entity_stats(kind, [])
        _file(services, docs[len(docs) // 2 :], 40)
        # the same filings again with another transport cost: amendments of stored parcels
        again = [dict(d, transport_cost="1.00") for d in docs[:60]]
        _file(services, again, 30)
        got = _state(history, list(ALL_KINDS))
        assert history.noted_hits > 0  # the pipeline's own batches came from memory
        assert got == _state(shadow, list(ALL_KINDS))
        assert sum(sum(v[0] for v in t.values()) for t in got["counts"].values()) > 0
    finally:
        services.close()


def test_notes_that_differ_from_what_is_stored_are_not_used(sqlite_url: str) -> None:
    """A noted batch whose documents, owner or date are not what was stored (another process
    changed it, the transaction failed, another party filed it) is read from the database."""
    services = build(Settings(database_url=sqlite_url, sample_rate=0.0))
    try:
        history = _history(services)
        history.max_age = 3600.0  # only the forced looks below
        for kind in ALL_KINDS:
            history.entity_stats(kind, [])
        _file(services, _filings(5, 30), 100)
        history.refresh(force=True)
        with services.engine.connect() as conn:
            before = set(conn.execute(select(consignments.c.id)).scalars())
        _file(services, _filings(6, 30), 100)
        with services.engine.connect() as conn:
            new = sorted(set(conn.execute(select(consignments.c.id)).scalars()) - before)
            stored = stored_inputs(conn, new)
        assert len(stored) > 10
        noted = []
        for n, r in enumerate(stored):
            doc = r.document
            if n % 4 == 0:  # another description: the stored document is not the noted one
                items = [structs.replace(i, description=f"{i.description} x") for i in doc.items]
                r = structs.replace(r, document=structs.replace(doc, items=items))
            elif n % 4 == 1:  # decided for someone else than the owner
                r = structs.replace(r, filer="Someone Else")
            elif n % 4 == 2:
                r = structs.replace(r, legal_date=r.legal_date + timedelta(days=1))
            noted.append(r)
        history._notes.clear()
        history.note_batch(Columns(noted))
        hits = history.noted_hits
        assert _state(history, list(ALL_KINDS)) == _reference(sqlite_url, list(ALL_KINDS))
        assert history.noted_hits - hits == len(range(3, len(stored), 4))
    finally:
        services.close()


# --- two processes ---------------------------------------------------------------------------


def _writer(url: str, seed: int, out: str, barrier: Any) -> None:
    """One process filing its traffic in small batches, looking at history at every batch."""
    services = build(Settings(database_url=url, sample_rate=0.0), migrate=False)
    try:
        history = _history(services)
        history.max_age = 0.0
        # a batch here may take longer than the 5 s a late commit is waited for (the first one
        # warms the HS classifier up on a busy machine): wait a minute, so that every row counts
        history._consignments.lag_ms = history._inspections.lag_ms = 60_000
        for kind in ("seller", "importer+hs6"):
            history.entity_stats(kind, [])
        docs = [d for d in _filings(seed, 120) if d.get("data_set") != "pre_loading"]
        barrier.wait()  # both start together
        _file(services, docs[: len(docs) // 2], 20)
        for kind in ALL_KINDS:
            history.entity_stats(kind, [])
        _file(services, docs[len(docs) // 2 :], 20)
        barrier.wait()  # both done: the last look sees everything
        state = _state(history, list(ALL_KINDS))
        state["noted_hits"] = history.noted_hits
        Path(out).write_text(json.dumps(state))
    finally:
        services.close()


def test_two_processes_writing_to_one_database(pg_url: str, tmp_path: Path) -> None:
    setup = build(Settings(database_url=pg_url, sample_rate=0.0))  # schema and filer, once
    setup.operators.ensure("Mercato Global", "platform")
    setup.close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    outs = [str(tmp_path / f"writer-{n}.json") for n in range(2)]
    procs = [ctx.Process(target=_writer, args=(pg_url, 20 + n, outs[n], barrier)) for n in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
        assert p.exitcode == 0
    reference = _reference(pg_url, list(ALL_KINDS))
    seen = sum(v[0] for v in reference["counts"]["description"].values())
    for out in outs:
        state = json.loads(Path(out).read_text())
        assert state.pop("noted_hits") > 0
        assert state == reference
    # both writers' filings are in every writer's counts
    assert seen > 200
    assert np.isfinite(seen)


def test_a_late_commit_inside_the_window_is_counted_once(sqlite_url: str) -> None:
    """Rows whose ids are older than the newest seen (a transaction that committed late) are
    counted when inside the trailing window, once; older than the window, not at all."""
    services = build(Settings(database_url=sqlite_url, sample_rate=0.0))
    try:
        history = _history(services)
        history.max_age = 3600.0
        _file(services, [d for d in _filings(8, 12) if d.get("data_set") != "pre_loading"], 50)
        history.refresh(force=True)
        tail = history._consignments
        c = consignments
        with services.engine.begin() as conn:
            row = dict(conn.execute(select(c).limit(1)).mappings().one())
            doc = stored_inputs(conn, [row["id"]])[0].document
            keys = Counter(description_key(i.description) for i in doc.items)
            for n, back in enumerate((1_000, tail.lag_ms + 1_000)):  # inside, then outside
                late = dict(row, id=id_floor("cns", tail.mark_ms - back), revision=0)
                late["transport_document"] = f"LATE{n}{row['transport_document']}"[:50]
                conn.execute(c.insert().values(**late))
        before = {k: history._counts["description"][k][0] for k in keys}
        history.refresh(force=True)
        after = {k: history._counts["description"][k][0] for k in keys}
        assert after == {k: before[k] + keys[k] for k in keys}  # the one inside, once
        history.refresh(force=True)
        assert {k: history._counts["description"][k][0] for k in keys} == after
    finally:
        services.close()


def test_no_notes_are_kept_while_nobody_asks(sqlite_url: str) -> None:
    services = build(Settings(database_url=sqlite_url, sample_rate=0.0))
    try:
        now = [1_000.0]
        history = SqlHistory(services.engine, clock=lambda: now[0])
        batch = Columns(_inputs(4, 10, "platform"))
        history.note_batch(batch)  # never looked: nothing to use the notes
        assert not history._notes
        history.refresh()
        history.note_batch(batch)
        assert len(history._notes) == batch.n
        history._notes.clear()
        now[0] += history.max_age + history._consignments.lag_ms / 1000 + 1
        history.note_batch(batch)  # no look for longer than the window: not kept
        assert not history._notes
    finally:
        services.close()
