"""Statistics on a large snapshot: seconds per statistic with DuckDB (and optionally Dask).

    .venv/bin/python bench/stats.py --consignments 1000000 [--days 30] [--dask] [--whatif 20000]

Synthesises a Parquet snapshot with the export's schema (`clearway.statistics.schema`) directly
with numpy — consignments, 1–3 items each, lifecycle events (file, assess, decide, arrive, then
release at arrival or hold → inspect → release), holds — over `--days` legal dates, then times
every statistic of the report. `--whatif N` also writes N generated canonical documents (the
simulation's parcels) for the first N consignments and times a two-scenario study on them.
Results: printed, and written to var/bench/stats.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clearway.statistics import measures, schema, timerelease
from clearway.statistics.snapshot import Snapshot
from clearway.statistics.whatif import load_study, run_study

OUT = Path("var/bench")
DEST = np.array(["DE", "FR", "IT", "ES", "NL", "PL", "GB", "US", "AU", "CN"])
CUR = np.array(["EUR", "EUR", "EUR", "EUR", "EUR", "PLN", "GBP", "USD", "AUD", "CNY"])
MODES = np.array(["post", "express", "air_cargo", "road"])
PLATFORMS = np.array(["ShopWorld", "MegaMart", "BazaarHub", "QuickBuy", "StyleBox"])
LANES = np.array(["green", "blue", "yellow", "red"])
MODELS = np.array(["vendor", "intermediary", "consumer"])
OFFICES = np.array(["OFFICE-A", "OFFICE-B", "OFFICE-C"])
CHAPTERS = np.array(["85", "61", "62", "64", "95", "33", "42", "71", "90", "39"])
RULES = np.array(["STR-DUAL-USE", "FIS-GIFT-FROM-SELLER", "VAL-LOW", "ORG-MISMATCH"])
STUDY = """\
study: bench
costs: {currency: EUR, per_declaration: "1.20", per_border_payment: "0.80",
        per_periodic_return: "15"}
scenarios:
  - name: relief
    packs:
      EU:
        duty.de_minimis:
          - {from: 2018-01-01, value: {amount: "150", currency: EUR}, reference: https://eur-lex.europa.eu/eli/reg/2009/1186/oj}
        duty.flat_per_subheading:
          - {from: 2018-01-01, value: null, reference: https://eur-lex.europa.eu/eli/reg/2009/1186/oj}
  - name: consumer
    declared_collection: consumer
"""


def money(unscaled: np.ndarray) -> pa.Array:
    """decimal128(18, 4) from non-negative int64 ten-thousandths, exactly (no float path)."""
    words = np.zeros((len(unscaled), 2), dtype=np.int64)
    words[:, 0] = unscaled
    return pa.Array.from_buffers(schema.MONEY, len(unscaled), [None, pa.py_buffer(words)])


def ts(micros: np.ndarray) -> pa.Array:
    return pa.array(micros, pa.int64()).cast(schema.TIMESTAMP)


def table(target: pa.Schema, columns: dict[str, Any], n: int) -> pa.Table:
    arrays = []
    for f in target:
        value = columns.get(f.name)
        if value is None:
            arrays.append(pa.nulls(n, f.type))
        elif isinstance(value, pa.Array):
            arrays.append(value)
        else:
            arrays.append(pa.array(value, f.type))
    return pa.Table.from_arrays(arrays, schema=target)


def synthesise(root: Path, n: int, days: int, seed: int = 1) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    shutil.rmtree(root, ignore_errors=True)
    rows = dict.fromkeys(schema.TABLES, 0)
    first = date(2026, 10, 1)
    per_day = np.array_split(np.arange(n), days)
    for d, ids in enumerate(per_day):
        day = first + timedelta(days=d)
        k = len(ids)
        cid = np.char.add("cns_", ids.astype(str))
        di = rng.integers(0, len(DEST), k)
        value = (rng.lognormal(3.6, 1.0, k) * 100).astype(np.int64) * 100  # cents → 4 dp
        duty = value // 20 * (rng.random(k) < 0.6)
        tax = (value + duty) // 5
        total = duty + tax
        model = rng.choice(MODELS, k, p=[0.45, 0.15, 0.4])
        lane = rng.choice(LANES, k, p=[0.85, 0.03, 0.07, 0.05])
        sample = rng.random(k) < 0.01
        lane[sample] = "red"
        stopped = np.isin(lane, ["yellow", "red"])
        inspected = stopped & (rng.random(k) < 0.9)
        found = np.where(inspected, rng.random(k) < np.where(sample, 0.05, 0.3), None)
        rules = [
            list(rng.choice(RULES, rng.integers(0, 3), replace=False)) if s else [] for s in stopped
        ]
        items_n = rng.integers(1, 4, k)
        start = int(datetime(day.year, day.month, day.day, 6, tzinfo=UTC).timestamp() * 1e6)
        filed = start + rng.integers(0, 12 * 3600, k) * 1_000_000
        arrived = filed + rng.integers(2 * 3600, 48 * 3600, k) * 1_000_000
        release_after = np.where(stopped, rng.integers(600, 72 * 3600, k), 0) * 1_000_000
        released = arrived + release_after
        office = rng.choice(OFFICES, k)
        cons = {
            "consignment_id": cid,
            "transport_document": cid,
            "legal_date": [day] * k,
            "filed_at": ts(filed),
            "status": np.where(stopped, "released", "released"),
            "payment_status": ["none"] * k,
            "data_set": ["full"] * k,
            "mode": rng.choice(MODES, k),
            "destination_country": DEST[di],
            "dispatch_country": ["CN"] * k,
            "office": office,
            "filer": rng.choice(PLATFORMS, k),
            "platform": rng.choice(PLATFORMS, k),
            "currency": CUR[di],
            "intrinsic_value": money(value),
            "item_count": items_n,
            "declared_collection_model": model,
            "collection_model": model,
            "registration_number": np.where(
                model == "vendor",
                np.char.add("IM", rng.integers(10**9, 10**9 + 5000, k).astype(str)),
                None,
            ),
            "assessed_currency": CUR[di],
            "customs_value": money(value),
            "duty": money(duty),
            "vat": money(tax),
            "consumption_tax": money(0 * value),
            "excise": money(0 * value),
            "fees": money(0 * value),
            "assessed_total": money(total),
            "due_at_border": money(np.where(model == "consumer", total, 0)),
            "irg_category": np.where(value > 1_500_000, 4, np.where(total > 0, 3, 2)),
            "reporting_currency": ["EUR"] * k,
            "reporting_value": money(value),
            "reporting_duty": money(duty),
            "reporting_tax": money(tax),
            "reporting_fees": money(0 * value),
            "reporting_total": money(total),
            "lane": lane,
            "score": rng.random(k),
            "random_sample": sample,
            "rule_codes": rules,
            "flags": [[] for _ in range(k)],
            "inspected": inspected,
            "found": found,
            "arrived_at": ts(arrived),
            "closed_at": ts(released),
        }
        item_cid = np.repeat(cid, items_n)
        m = len(item_cid)
        item_value = np.repeat(value // items_n, items_n)
        items = {
            "consignment_id": item_cid,
            "item_index": np.concatenate([np.arange(c) for c in items_n]),
            "legal_date": [day] * m,
            "destination_country": np.repeat(DEST[di], items_n),
            "hs_chapter": rng.choice(CHAPTERS, m),
            "origin_country": ["CN"] * m,
            "value": money(item_value),
            "reporting_value": money(item_value),
            "reporting_duty": money(np.repeat(duty // items_n, items_n)),
            "reporting_tax": money(np.repeat(tax // items_n, items_n)),
            "reporting_fees": money(np.zeros(m, dtype=np.int64)),
            "quantity": [1] * m,
        }
        items["hs_heading"] = np.char.add(items["hs_chapter"], "09")
        # events: file, assess, decide at filing; arrive; then release, or hold (+inspect) → release
        kinds = [("file", filed), ("assess", filed), ("decide", filed), ("arrive", arrived)]
        held_idx = np.nonzero(stopped)[0]
        ev_cid = [cid] * 4 + [cid[held_idx], cid[np.nonzero(inspected)[0]], cid]
        ev_kind = [np.full(k, name) for name, _ in kinds] + [
            np.full(len(held_idx), "hold"),
            np.full(int(inspected.sum()), "inspect"),
            np.full(k, "release"),
        ]
        ev_at = [at for _, at in kinds] + [
            arrived[held_idx],
            (arrived + release_after // 2)[inspected],
            released,
        ]
        ev_office = [office] * 4 + [office[held_idx], office[inspected], office]
        ev_c = np.concatenate(ev_cid)
        events = {
            "event_id": np.arange(len(ev_c)),
            "consignment_id": ev_c,
            "legal_date": [day] * len(ev_c),
            "kind": np.concatenate(ev_kind),
            "at": ts(np.concatenate(ev_at)),
            "office": np.concatenate(ev_office),
            "authority": np.where(np.concatenate(ev_kind) == "hold", "customs", None),
        }
        holds = {
            "hold_id": np.char.add("hld_", cid[held_idx]),
            "consignment_id": cid[held_idx],
            "legal_date": [day] * len(held_idx),
            "authority": ["customs"] * len(held_idx),
            "placed_at": ts(arrived[held_idx]),
            "lifted_at": ts(released[held_idx]),
        }
        for name, cols, length in (
            ("consignments", cons, k),
            ("items", items, m),
            ("events", events, len(ev_c)),
            ("holds", holds, len(held_idx)),
        ):
            folder = root / schema.partition_dir(name, day.isoformat())
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table(schema.TABLES[name], cols, length), folder / "part-00000.parquet")
            rows[name] += length
    manifest = {
        "schema_version": schema.SCHEMA_VERSION,
        "reporting_currency": "EUR",
        "partitioned_by": "legal_date",
        "exported_at": "synthetic",
        "rows": rows,
    }
    (root / schema.MANIFEST).write_text(json.dumps(manifest))
    return rows


def add_documents(root: Path, n: int) -> None:
    """Generated canonical documents (simulation) for the first n consignments."""
    from clearway.simulation.generator import TrafficGenerator

    docs: list[str] = []
    for p in TrafficGenerator(5).parcels(n):
        docs.append(json.dumps(p.filings[-1]))
    cons = pq.read_table(
        sorted((root / "consignments").glob("day=*/*.parquet"))[0],
        columns=["consignment_id", "legal_date", "filer"],
    )
    k = min(n, cons.num_rows, len(docs))
    folder = root / schema.partition_dir(
        "documents", cons.column("legal_date")[0].as_py().isoformat()
    )
    folder.mkdir(parents=True, exist_ok=True)
    t = pa.table(
        {
            "consignment_id": cons.column("consignment_id")[:k],
            "legal_date": cons.column("legal_date")[:k],
            "filer": cons.column("filer")[:k],
            "document": docs[:k],
        },
        schema=schema.DOCUMENTS,
    )
    pq.write_table(t, folder / "part-00000.parquet")


def timed(results: dict[str, float], name: str, fn: Callable[[], object]) -> None:
    t = time.perf_counter()
    fn()
    results[name] = round(time.perf_counter() - t, 3)
    print(f"{name:<40} {results[name]:8.3f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--consignments", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--dask", action="store_true", help="also time the Dask path (local)")
    ap.add_argument("--whatif", type=int, default=0, help="parcels to re-assess in a study")
    args = ap.parse_args()
    root = OUT / "stats-snapshot"
    t = time.perf_counter()
    rows = synthesise(root, args.consignments, args.days)
    print(f"synthesised {rows} in {time.perf_counter() - t:.1f} s", flush=True)
    results: dict[str, float] = {}
    with Snapshot(root) as snap:
        timed(results, "overview", lambda: measures.overview(snap))
        for dim in measures.DIMENSIONS:
            timed(results, f"breakdown {dim}", lambda d=dim: measures.breakdown(snap, d))
        timed(results, "revenue", lambda: measures.revenue(snap))
        timed(results, "registrations", lambda: measures.registrations(snap))
        timed(results, "hit rates", lambda: measures.hit_rates(measures.hit_rate_counts(snap)))
        for by in timerelease.GROUPS:
            timed(results, f"time release by {by}", lambda b=by: timerelease.time_release(snap, b))
            timed(results, f"release shares by {by}", lambda b=by: timerelease.shares(snap, b))
        timed(results, "hold durations", lambda: timerelease.hold_durations(snap))
    duck_total = round(sum(results.values()), 3)
    print(f"{'all DuckDB statistics':<40} {duck_total:8.3f} s")
    out: dict[str, Any] = {"rows": rows, "duckdb_seconds": results, "duckdb_total": duck_total}
    if args.dask:
        from distributed import Client, LocalCluster

        from clearway.statistics.distributed import DaskStatistics

        dask_results: dict[str, float] = {}
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            stats = DaskStatistics(root, client)
            for dim in ("destination_country", "value_band", "hs_chapter"):
                timed(dask_results, f"dask breakdown {dim}", lambda d=dim: stats.breakdown(d))
            timed(dask_results, "dask revenue", stats.revenue)
            timed(dask_results, "dask time release by lane", lambda: stats.time_release("lane"))
            timed(dask_results, "dask time release by office", lambda: stats.time_release("office"))
            timed(dask_results, "dask release shares by lane", lambda: stats.shares("lane"))
            stats.close()
        out["dask_seconds"] = dask_results
    if args.whatif:
        add_documents(root, args.whatif)
        study_file = OUT / "stats-study.yaml"
        study_file.write_text(STUDY)
        with Snapshot(root) as snap:
            parcels = snap.scalar("SELECT count(*) FROM documents")
            timed(
                results,
                f"what-if 3 scenarios x {parcels} parcels",
                lambda: run_study(snap, load_study(study_file)),
            )
        out["whatif_seconds"] = results[f"what-if 3 scenarios x {parcels} parcels"]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "stats.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
