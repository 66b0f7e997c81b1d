"""Conflicting writers: retried with jittered back-off, and a 409 in domain words at the end."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer, StaleWrite
from clearway.clearance.retry import ATTEMPTS, StillConflicting, with_retries
from clearway.domain.filing import from_builtins
from clearway.storage import tables as t
from clearway.wiring.services import Services
from tests.conftest import make_filing


def test_retries_pause_with_growing_jitter_then_say_what_conflicted() -> None:
    pauses: list[float] = []
    calls = 0

    def always_loses() -> None:
        nonlocal calls
        calls += 1
        raise StaleWrite("another request stored a filing with the same filer reference")

    with pytest.raises(StillConflicting) as caught:
        with_retries(always_loses, "the filing", sleep=pauses.append)
    assert calls == ATTEMPTS and len(pauses) == ATTEMPTS - 1
    assert all(0 <= p <= 0.5 for p in pauses)
    detail = caught.value.detail
    assert detail.startswith("the filing conflicted") and "same filer reference" in detail
    assert "nothing was stored" in detail and caught.value.status == 409

    answers = iter([StaleWrite("x"), StaleWrite("x"), None])

    def wins_third_time() -> str:
        failure = next(answers)
        if failure is not None:
            raise failure
        return "stored"

    assert with_retries(wins_third_time, "the filing", sleep=lambda _: None) == "stored"


def _batch(n: int, tag: str) -> list[Submission]:
    docs = []
    for i in range(n):
        serial = f"{i:08d}"
        weights = (8, 6, 4, 2, 3, 5, 9, 7)
        check = 11 - sum(int(d) * w for d, w in zip(serial, weights, strict=True)) % 11
        digit = {10: 0, 11: 5}.get(check, check)
        docs.append(
            make_filing(
                filer_reference=f"{tag}-{i}",
                transport_document=f"RR{serial}{digit}CN",
            )
        )
    return [Submission(from_builtins(d)) for d in docs]


def test_eight_writers_filing_the_same_batch_store_it_once(pg_url: str) -> None:
    from clearway.wiring.services import build
    from clearway.wiring.settings import Settings

    svc: Services = build(Settings(database_url=pg_url, sample_rate=0.0))
    try:
        filer = Filer(svc.operators.ensure("Busy Shop", "platform"), "Busy Shop", "platform")
        batch = _batch(40, "RACE")

        def file_it(_: int) -> list[str]:
            return [r.outcome for r in svc.pipeline.process(filer, batch)]

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(file_it, range(8)))
        # every writer got an answer per filing: stored once, the rest duplicates
        assert all(len(o) == 40 for o in outcomes)
        stored = sum(o.count("accepted") for o in outcomes)
        assert stored == 40, outcomes
        with svc.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.consignments)).scalar() == 40
            assert conn.execute(select(func.count()).select_from(t.filings)).scalar() == 40
    finally:
        svc.close()
