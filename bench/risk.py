"""Risk benchmark: `python bench/risk.py [--data DIR] [--n N]`.

1. The targeting model on the Customs Import Declaration Datasets (fixed splits): trains on train
   (valid for early stopping only), scores test; prints precision/recall at top n %, AUC,
   training seconds and scoring rows/s (best of 5, history and model loaded).
2. `RiskSelector.decide_batch` throughput on N synthetic consignments (distinct parties, one to
   three items), rules only and rules + a model trained on consignments.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from clearway.domain.filing import FilingDocument, Item, Party
from clearway.domain.ports import RiskInput
from clearway.risk.benchmark import read_declarations
from clearway.risk.columns import Columns
from clearway.risk.evaluation import ranking_report
from clearway.risk.features import frame_from_columns
from clearway.risk.model import train_model
from clearway.risk.selector import RiskSelector

DATA = Path(__file__).resolve().parents[2] / "shared/data/fraud/customs-declaration-datasets"
GOODS = [("cotton t-shirt", "610910"), ("phone case", "392690"), ("lithium power bank", "850760"),
         ("face cream", "330499"), ("sneakers", "640411"), ("gift", "950300"),
         ("bluetooth earphones", "851830"), ("Smartphone 128GB", "851713")]  # fmt: skip


def benchmark(data: Path) -> dict[str, object]:
    train, y_train = read_declarations(data / "df_syn_train_eng.csv")
    valid, y_valid = read_declarations(data / "df_syn_valid_eng.csv")
    test, y_test = read_declarations(data / "df_syn_test_eng.csv")
    started = time.perf_counter()
    model = train_model(train, y_train, valid, y_valid)
    train_seconds = time.perf_counter() - started
    model.score_frame(test.iloc[:100])
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        scores = model.score_frame(test)
        best = min(best, time.perf_counter() - t)
    report: dict[str, object] = dict(ranking_report(y_test, scores))
    report["train_seconds"] = round(train_seconds, 2)
    report["score_rows_per_s"] = round(len(test) / best)
    report["trees"] = model.booster.num_trees()
    return report


def consignments(n: int, seed: int = 1) -> tuple[list[RiskInput], np.ndarray]:
    rng = np.random.default_rng(seed)
    out, labels = [], []
    for i in range(n):
        k = int(rng.integers(1, 4))
        bad = rng.random() < 0.1
        items = []
        for _ in range(k):
            desc, hs = GOODS[int(rng.integers(0, len(GOODS)))]
            value = "4.99" if bad else f"{rng.integers(5, 150)}.{rng.integers(0, 100):02d}"
            items.append(
                Item(
                    description=desc,
                    hs_code=hs,
                    value=Decimal(value),
                    net_mass_kg=Decimal("0.3"),
                    origin_country="CN",
                )
            )
        doc = FilingDocument(
            filer_reference=f"r{i}",
            transport_document=f"LX{i:08d}5CN",
            destination_country="DE",
            items=items,
            dispatch_country="CN",
            office=f"DE-{i % 4}",
            consignee=Party(name=f"Consignee {rng.integers(0, n)}", address="Hauptstr. 1"),
            consignor=Party(name="Warehouse", address="1 Rd"),
            seller=Party(name=f"Seller {rng.integers(0, 30 if bad else 2000)}"),
        )
        out.append(
            RiskInput(
                consignment_id=f"c{i}",
                document=doc,
                legal_date=date(2025, 5, 1),
                filer="acme",
                filer_role="platform",
            )
        )
        labels.append(int(bad))
    return out, np.asarray(labels, dtype=np.int64)


def decide_throughput(n: int) -> dict[str, object]:
    inputs, _ = consignments(n)
    rules = RiskSelector.load_default()
    rules.decide_batch(inputs[:100])
    t = time.perf_counter()
    rules.decide_batch(inputs)
    rules_rate = n / (time.perf_counter() - t)
    train_inputs, train_labels = consignments(20_000, seed=2)
    model = train_model(
        frame_from_columns(Columns(train_inputs)),
        np.repeat(train_labels, [len(x.document.items) for x in train_inputs]),
    )
    with_model = RiskSelector.load_default(scorer=model)
    with_model.decide_batch(inputs[:100])
    t = time.perf_counter()
    decisions = with_model.decide_batch(inputs)
    model_rate = n / (time.perf_counter() - t)
    lanes = {
        lane: sum(d.lane == lane for d in decisions) for lane in ("green", "blue", "yellow", "red")
    }
    return {
        "consignments": n,
        "rules_only_per_s": round(rules_rate),
        "rules_and_model_per_s": round(model_rate),
        "lanes_with_model": lanes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--n", type=int, default=50_000)
    args = parser.parse_args()
    print(
        json.dumps(
            {"benchmark": benchmark(args.data), "decide_batch": decide_throughput(args.n)}, indent=2
        )
    )


if __name__ == "__main__":
    main()
