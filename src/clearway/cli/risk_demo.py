"""Demo support for risk: file a generated *history day* before the demo day.

Risk compares a parcel with earlier traffic: the reference unit price of its HS6 (median of
declared unit values, per currency), how usual its HS chapter is for its description, whether a
party was seen before. A fresh demo database has no earlier traffic, so the first parcels of the
demo day would be judged without it. `prepare` files one generated day (the day before, another
seed) through the same pipeline, so the history provider starts with a day of traffic — the
reference-price prior is *learned from that day*, no price table is shipped. No ground truth is
read: the history day is filed like any traffic and nobody inspects it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.risk.selector import RiskSelector
from clearway.simulation.generator import TrafficGenerator
from clearway.storage.history import SqlHistory
from clearway.wiring.services import Services

BATCH = 1000


def prepare(services: Services, *, parcels: int = 3000, seed: int = 7) -> int:
    """File a history day (the day before the generator's day, seed `seed + 1000`) and bring the
    selector's history up to date. Returns the number of consignments filed."""
    day = TrafficGenerator(seed).day - timedelta(days=1)
    generated = TrafficGenerator(seed + 1000, day).parcels(parcels)
    by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in generated:
        final = p.filings[-1]
        by_platform[str(final.get("platform", {}).get("name", "Unknown Platform"))].append(final)
    filed = 0
    for name, docs in by_platform.items():
        filer = Filer(services.operators.ensure(name, "platform"), name, "platform")
        for i in range(0, len(docs), BATCH):
            subs = [Submission(from_builtins(d)) for d in docs[i : i + BATCH]]
            filed += sum(r.accepted for r in services.pipeline.process(filer, subs))
    selector = services.selector
    if isinstance(selector, RiskSelector) and isinstance(selector.history, SqlHistory):
        selector.history.refresh(force=True)
    return filed
