"""The batched pipeline gives the answers of a plain one-filing-at-a-time run.

Every shortcut of the hot path works on a whole batch: one scan for unsafe characters, each
regex once per distinct text, the classifier once per distinct description, the history counts
kept current from the batch, writes gathered into one transaction. The reference is the same
pipeline fed one filing per batch, where none of those shortcuts can pool anything. Generated
traffic with planted violations (undervaluation, wrong HS codes, split shipments, prohibited
goods, bad registrations, broken S10 numbers…), repeated and amended filings and filings that
fail validation goes through both; every result, decision (lane, reasons, score), assessment
(amounts, flags, trace) and timeline event must be identical.

The inspection budget is set to the whole traffic: spending it is batch-shaped on purpose (the
highest scores of a batch come first), which is a policy, not a shortcut. Random control sampling
is off because it draws on consignment ids, which are new in every run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clearway.clearance.intake import submission
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.kernel.clock import FixedClock
from clearway.simulation.generator import DEFAULT_RATES, TrafficGenerator
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing

# Violations planted ten times as often as in the default traffic, so every example has some.
RATES = {k: min(v * 10, 0.2) for k, v in DEFAULT_RATES.items()}
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


Traffic = list[list[dict[str, Any]]]  # phases of filings, each filed in batches


def _traffic(seed: int, parcels: int) -> Traffic:
    """Generated filings with invalid ones mixed in, then repeats and amendments of some of them.

    A parcel's later filings (the full declaration after the pre-loading data set) and the
    repeats come in later phases, after every earlier filing: a batch decides each parcel once,
    with everything the batch knows, where one-by-one filing decides each step (a pre-loading
    referral, then the declaration; version 1, then version 2), so no batch may hold two
    filings of one parcel for the runs to be comparable (tested on its own below). Each
    consignee is made unique: a consignee's same-day total counts every parcel on file when the
    decision is made, and a batch's parcels are all on file at once (tests/risk/
    test_history_db.py).
    """
    rng = random.Random(seed)
    phases: Traffic = [[]]
    lasts: list[dict[str, Any]] = []  # the last filing of each parcel
    for n, parcel in enumerate(TrafficGenerator(seed, rates=RATES).parcels(parcels)):
        for step, filing in enumerate(parcel.filings):
            doc = json.loads(json.dumps(filing, default=str))
            doc["consignee"]["name"] += f" {n}"
            while len(phases) <= step:
                phases.append([])
            phases[step].append(doc)
        lasts.append(doc)
    repeats: list[dict[str, Any]] = []
    for doc in lasts:
        roll = rng.random()
        if roll < 0.08:
            repeats.append(json.loads(json.dumps(doc)))  # the same filing again: a duplicate
        elif roll < 0.16:
            changed = json.loads(json.dumps(doc))
            changed["items"][0]["description"] += " (corrected)"
            repeats.append(changed)  # an amendment before arrival
        elif roll < 0.22:
            broken = json.loads(json.dumps(doc))
            broken["filer_reference"] = f"{doc['filer_reference']}-X"
            broken["items"][0]["hs_code"] = "99AB"
            phases[0].append(broken)  # fails validation
    return [*phases, repeats]


def _run(url: str, traffic: Traffic, size: int) -> dict[str, Any]:
    svc = build(Settings(database_url=url, sample_rate=0.0, budget=1.0), clock=FixedClock(AT))
    try:
        filer = Filer(
            svc.operators.ensure("Bench Platform", "platform"), "Bench Platform", "platform"
        )
        results: list[FilingResult] = []
        for part in traffic:
            for start in range(0, len(part), size):
                chunk = part[start : start + size]
                for r in svc.pipeline.process(filer, [_submission(d) for d in chunk]):
                    r.index = len(results)  # the position in the whole traffic
                    results.append(r)
        return _observed(svc, results)
    finally:
        svc.close()


def _submission(doc: dict[str, Any]) -> Submission:
    return submission(json.dumps(doc).encode())  # the API's own decoding, problems and all


def _observed(svc: Services, results: list[FilingResult]) -> dict[str, Any]:
    """Everything a filer or an officer sees of the run, with run-specific ids named by parcel."""
    names: dict[str, str] = {}
    seen: dict[str, Any] = {"results": [], "consignments": {}}
    for r in results:
        if r.consignment_id and r.consignment_id not in names:
            c = svc.store.load(r.consignment_id)
            assert c is not None
            names[r.consignment_id] = f"<{c.transport_document}>"
    for r in results:
        seen["results"].append(
            {
                "index": r.index,
                "outcome": r.outcome,
                "reference": r.filer_reference,
                "consignment": names.get(r.consignment_id or ""),
                "status": r.status,
                "version": r.version,
                "decision": msgspec.to_builtins(r.decision),
                "problems": [msgspec.to_builtins(p) for p in r.problems],
            }
        )
    for cid, name in names.items():
        c = svc.store.load(cid)
        assert c is not None
        seen["consignments"][name] = {
            "status": c.status,
            "payment_status": c.payment_status,
            "version": c.version,
            "legs": c.legs,
            "document": msgspec.to_builtins(c.document),
            "decision": msgspec.to_builtins(c.decision),
            "assessment": msgspec.to_builtins(c.assessment),
            "events": [
                [e.kind, e.actor, e.at, e.from_status, e.to_status, e.data]
                for e in svc.store.events_of(cid)
            ],
        }
    text = json.dumps(seen, sort_keys=True, default=str)
    for cid, name in names.items():
        text = text.replace(cid, name)
    observed: dict[str, Any] = json.loads(text)
    return observed


def _differences(batched: dict[str, Any], single: dict[str, Any]) -> Iterator[str]:
    for a, b in zip(batched["results"], single["results"], strict=True):
        if a != b:
            yield f"result {a['index']}: batched {a} != one by one {b}"
    for name in sorted(set(batched["consignments"]) | set(single["consignments"])):
        a, b = batched["consignments"].get(name), single["consignments"].get(name)
        if a != b:
            keys = sorted(k for k in (a or {}) if b is None or a.get(k) != b.get(k))  # type: ignore[union-attr]
            yield f"consignment {name} differs in {keys or 'presence'}"


@settings(
    max_examples=4,
    deadline=None,
    # each example files a few hundred filings twice: report the failing one, do not shrink it
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 10_000), parcels=st.integers(20, 60), size=st.integers(7, 64))
def test_batched_and_one_by_one_runs_see_the_same_parcels(
    tmp_path: Path, seed: int, parcels: int, size: int
) -> None:
    traffic = _traffic(seed, parcels)
    run = f"{seed}-{parcels}-{size}"
    batched = _run(f"sqlite:///{tmp_path / f'batched-{run}.sqlite'}", traffic, size)
    single = _run(f"sqlite:///{tmp_path / f'single-{run}.sqlite'}", traffic, 1)
    assert len(batched["results"]) == sum(map(len, traffic))
    assert any(r["decision"] and r["decision"].get("reasons") for r in batched["results"])
    differences = list(_differences(batched, single))
    assert not differences, "\n".join(differences[:10])


@pytest.mark.parametrize("size", [25])
def test_on_postgresql_batched_and_one_by_one_runs_agree(
    pg_url: str, postgres_server: str, size: int
) -> None:
    import uuid

    import psycopg

    traffic = _traffic(4242, 40)
    batched = _run(pg_url, traffic, size)
    other = f"clearway_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{other}"')
    try:
        single = _run(f"{pg_url.rsplit('/', 1)[0]}/{other}", traffic, 1)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')
    differences = list(_differences(batched, single))
    assert not differences, "\n".join(differences[:10])


def test_a_filing_repeated_within_its_batch_is_answered_as_the_batch_left_it(
    services: Services,
) -> None:
    """The copy is a duplicate carrying the decision the batch made, not the state before it."""
    filer = Filer(
        services.operators.ensure("Mercato Global", "platform"), "Mercato Global", "platform"
    )
    doc = make_filing()
    first, again = services.pipeline.process(filer, [_submission(doc), _submission(doc)])
    assert (first.outcome, again.outcome) == ("accepted", "duplicate")
    assert again.consignment_id == first.consignment_id and again.version == 1
    assert again.status == first.status == "decided"
    assert again.decision is not None and again.decision == first.decision


def test_an_amendment_within_the_batch_that_filed_it_is_on_the_timeline(
    services: Services,
) -> None:
    """One decision, at the last version; the timeline still shows the version it replaced."""
    filer = Filer(
        services.operators.ensure("Mercato Global", "platform"), "Mercato Global", "platform"
    )
    doc = make_filing()
    changed = make_filing()
    changed["items"][1]["value"] = "11.00"
    first, amended = services.pipeline.process(filer, [_submission(doc), _submission(changed)])
    assert (first.outcome, amended.outcome, amended.version) == ("accepted", "amended", 2)
    events = services.store.events_of(str(amended.consignment_id))
    assert [e.kind for e in events][:4] == ["file", "amend", "assess", "decide"]
    assert events[1].data == {"version": 2, "leg": "declaration", "reference": "ORD-1001"}
    c = services.store.load(str(amended.consignment_id))
    assert c is not None and c.version == 2 and c.document.items[1].value == 11
