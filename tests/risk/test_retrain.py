"""The feedback loop end to end: generated traffic is filed, officers record inspection results
(the generator's ground truth stands in for what they find), `clearway risk retrain` learns from
the stored outcomes, and the reloaded model ranks irregular parcels of a held-out day above clean
ones. `clearway risk drift` then compares that day with the training reference."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from clearway.clearance.handlers import ActionRequest
from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.cli.risk import app
from clearway.domain.filing import from_builtins
from clearway.risk.columns import Columns
from clearway.risk.evaluation import precision_at
from clearway.risk.model import TargetingModel
from clearway.simulation.generator import GeneratedParcel, TrafficGenerator
from clearway.storage.history import SqlHistory, stored_inputs
from clearway.wiring.services import Services

RATES = {  # twice the generator's default rates: enough positives in a lean test
    "undervaluation": 0.06,
    "wrong_hs_code": 0.03,
    "vague_description": 0.03,
    "split_shipment": 0.02,
    "prohibited_goods": 0.01,
}


def _file_day(services: Services, parcels: list[GeneratedParcel]) -> dict[str, str]:
    """File each parcel's complete filing as its platform; transport document -> consignment."""
    by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in parcels:
        by_platform[p.filings[-1]["platform"]["name"]].append(p.filings[-1])
    ids: dict[str, str] = {}
    for name, docs in by_platform.items():
        filer = Filer(services.operators.ensure(name, "platform"), name, "platform")
        for i in range(0, len(docs), 500):
            chunk = docs[i : i + 500]
            subs = [Submission(from_builtins(d)) for d in chunk]
            for doc, r in zip(chunk, services.pipeline.process(filer, subs), strict=True):
                if r.consignment_id:
                    ids[doc["transport_document"]] = r.consignment_id
    return ids


def test_retrain_on_inspection_outcomes_ranks_irregular_parcels_first(
    sqlite_services: Services, sqlite_url: str, tmp_path: Path
) -> None:
    services = sqlite_services
    train_day = list(TrafficGenerator(11, date(2026, 11, 1), RATES).parcels(1500))
    held_out = list(TrafficGenerator(12, date(2026, 11, 2), RATES).parcels(800))
    train_ids = _file_day(services, train_day)
    held_ids = _file_day(services, held_out)

    # officers inspect a random half of the first day and find exactly what was planted
    officer = "officer:Feedback Test"
    rng = random.Random(3)
    for p in rng.sample(train_day, 700):
        cid = train_ids.get(p.filings[-1]["transport_document"])
        if cid is None:  # rejected at filing (bad S10 check digit)
            continue
        services.clearance.act(cid, ActionRequest("hold", officer, reason="inspection"))
        services.clearance.act(
            cid, ActionRequest("record_inspection", officer, found=bool(p.violations))
        )

    out = tmp_path / "model"
    runner = CliRunner()
    result = runner.invoke(app, ["retrain", "--out", str(out), "--database", sqlite_url])
    assert result.exit_code == 0, result.output
    model = TargetingModel.load(out)
    assert model.metrics["train_rows"] > 0 and (out / "drift_reference.json").exists()

    truth = {p.filings[-1]["transport_document"]: bool(p.violations) for p in held_out}
    with services.engine.connect() as conn:
        inputs = []
        ids = list(held_ids.values())
        for i in range(0, len(ids), 500):
            inputs += stored_inputs(conn, ids[i : i + 500])
    labels = np.asarray([truth[r.document.transport_document] for r in inputs], dtype=np.int64)
    scores, _ = model.score_inputs(Columns(inputs), SqlHistory(services.engine))
    base = labels.mean()
    top = precision_at(labels, scores, 10)
    assert 0.05 < base < 0.3
    assert top >= 3 * base, (top, base)

    drift = runner.invoke(
        app, ["drift", "--model", str(out), "--database", sqlite_url, "--days", "1", "--json"]
    )
    assert drift.exit_code == 0, drift.output
    report = json.loads(drift.output)
    assert report["recent_consignments"] == len(inputs)  # the held-out day is the newest day
    assert report["recent_inspected"] == 0 and report["recent_hit_rate"] is None
    assert report["status"] in ("stable", "watch", "retrain") and report["psi"] >= 0
