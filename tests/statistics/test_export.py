"""The Parquet snapshot: partitions, schema, exact decimal amounts, periods, safe overwrites."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.kernel.errors import DomainError
from clearway.statistics import schema as s
from clearway.storage import tables as t
from clearway.storage.export import SnapshotFolderInUse, export
from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.statistics.conftest import Traffic


def _read(root: Path, table: str) -> pa.Table:
    files = sorted((root / table).glob("day=*/*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files])


def test_snapshot_matches_the_database(traffic: Traffic, tmp_path: Path) -> None:
    engine = traffic.services.engine
    result = export(engine, tmp_path / "snap", chunk=50)  # several part files per day
    root = tmp_path / "snap"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["partitioned_by"] == "legal_date" and manifest["days"] == ["2026-11-02"]
    assert len(list((root / "consignments" / "day=2026-11-02").glob("*.parquet"))) == 3
    with engine.connect() as conn:
        counts = {
            "consignments": conn.scalar(select(func.count()).select_from(t.consignments)),
            "events": conn.scalar(select(func.count()).select_from(t.events)),
            "holds": conn.scalar(select(func.count()).select_from(t.holds)),
        }
        totals = [Decimal(v) for (v,) in conn.execute(select(t.consignments.c.assessed_total)) if v]
        found = {
            cid: f
            for cid, f in conn.execute(
                select(t.inspections.c.consignment_id, t.inspections.c.found)
            )
        }
    for table, n in counts.items():
        assert result.rows[table] == n
    cons = _read(root, "consignments")
    assert cons.schema.equals(s.CONSIGNMENTS)
    assert cons.schema.field("assessed_total").type == pa.decimal128(18, 4)
    assert sum(v for v in cons.column("assessed_total").to_pylist() if v) == sum(totals)
    inspected = {r["consignment_id"]: r["found"] for r in cons.to_pylist() if r["inspected"]}
    assert inspected == found == traffic.inspected
    items = _read(root, "items")
    assert items.num_rows == sum(cons.column("item_count").to_pylist())
    assert items.schema.field("value").type == pa.decimal128(18, 4)
    events = _read(root, "events")
    assert set(events.column("kind").to_pylist()) >= {"file", "assess", "decide", "arrive"}
    phyto = [e for e in events.to_pylist() if e["authority"] == "PHYTO"]
    assert {e["kind"] for e in phyto} == {"hold", "lift_hold"}
    assert {e["consignment_id"] for e in phyto} == set(traffic.agency_held)


def test_period_selects_legal_dates_and_reexport_replaces(
    services: Services, tmp_path: Path
) -> None:
    filer = Filer(services.operators.ensure("Shop", "platform"), "Shop", "platform")
    docs = [
        make_filing(
            filer_reference="D1", transport_document="LX000000014CN", legal_date="2026-11-01"
        ),
        make_filing(
            filer_reference="D2", transport_document="LX000000028CN", legal_date="2026-11-02"
        ),
        make_filing(
            filer_reference="D3", transport_document="LX000000031CN", legal_date="2026-11-03"
        ),
    ]
    services.pipeline.process(filer, [Submission(from_builtins(d)) for d in docs])
    out = tmp_path / "snap"
    everything = export(services.engine, out)
    assert everything.days == ["2026-11-01", "2026-11-02", "2026-11-03"]
    second = export(services.engine, out, since=date(2026, 11, 2), until=date(2026, 11, 2))
    assert second.days == ["2026-11-02"] and second.rows["consignments"] == 1
    assert sorted(p.name for p in (out / "consignments").iterdir()) == ["day=2026-11-02"]
    docs_table = _read(out, "documents")
    assert json.loads(docs_table.column("document")[0].as_py())["filer_reference"] == "D2"


def test_refuses_a_folder_that_is_not_a_snapshot(services: Services, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(SnapshotFolderInUse):
        export(services.engine, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    with pytest.raises(DomainError, match="after"):
        export(services.engine, tmp_path / "x", since=date(2026, 2, 1), until=date(2026, 1, 1))
    with pytest.raises(DomainError, match="reporting currency 'XAF'"):
        export(services.engine, tmp_path / "x", reporting_currency="XAF")
    assert not (tmp_path / "x").exists()
