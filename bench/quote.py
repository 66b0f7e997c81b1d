"""Quotes per second in process: `python bench/quote.py [N]`.

Builds a mix of realistic parcels (EU, GB, US, AU, CN; one to three items; several currencies and
collection models) and times `quote_document` and `PackAssessor.assess_batch` on them after one
warm-up pass (packs load once per process). Target: under 1 ms per quote.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from decimal import Decimal

from clearway.domain.filing import from_builtins
from clearway.domain.ports import AssessmentRequest
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.quote import quote_document

DESTINATIONS = [("DE", "EUR"), ("FR", "EUR"), ("PL", "EUR"), ("GB", "GBP"), ("US", "USD"),
                ("AU", "AUD"), ("CN", "CNY"), ("NL", "USD")]  # fmt: skip
HS = ["610910", "910211", "330499", "850440", "6109100012", "420292"]
MODELS = [None, {"model": "vendor", "registration_number": "IM2760000001"},
          {"model": "intermediary"}]  # fmt: skip


def parcels(n: int) -> list[dict[str, object]]:
    out = []
    for i in range(n):
        dest, cur = DESTINATIONS[i % len(DESTINATIONS)]
        items = [
            {"description": "goods", "value": str(Decimal(7 + (i * 37 + k * 11) % 400)),
             "hs_code": HS[(i + k) % len(HS)], "origin_country": "CN", "net_mass_kg": "0.4"}
            for k in range(1 + i % 3)
        ]  # fmt: skip
        doc: dict[str, object] = {
            "filer_reference": f"b{i}", "transport_document": "LX123456785CN",
            "destination_country": dest, "currency": cur, "items": items,
            "transport_cost": "4.50", "mode": "post" if i % 2 else "express",
        }  # fmt: skip
        if MODELS[i % 3]:
            doc["collection"] = MODELS[i % 3]
        out.append(doc)
    return out


def main(n: int) -> None:
    t0 = time.perf_counter()
    assessor = PackAssessor.load_default()
    load = time.perf_counter() - t0
    docs = [from_builtins(p) for p in parcels(n)]
    when = date(2026, 7, 15)
    for d in docs[:200]:
        quote_document(d, when, assessor)  # warm-up: rule snapshots, FX cache
    t = time.perf_counter()
    for d in docs:
        quote_document(d, when, assessor)
    quote_s = time.perf_counter() - t
    batch = [AssessmentRequest(str(i), d, when) for i, d in enumerate(docs)]
    t = time.perf_counter()
    assessor.assess_batch(batch)
    batch_s = time.perf_counter() - t
    print(f"packs loaded in {load * 1000:.0f} ms")
    print(f"quote_document: {n} quotes in {quote_s:.3f} s = {n / quote_s:,.0f}/s, "
          f"{quote_s / n * 1e6:.0f} µs per quote (target < 1000 µs)")  # fmt: skip
    print(f"assess_batch:   {n} parcels in {batch_s:.3f} s = {n / batch_s:,.0f}/s, "
          f"{batch_s / n * 1e6:.0f} µs per parcel")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
