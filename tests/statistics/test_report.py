"""The HTML report's figures, read back from the page, equal what the database holds."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import select

from clearway.statistics.dashboard import summary
from clearway.statistics.report import write_report
from clearway.storage import tables as t
from tests.statistics.conftest import Traffic


class _Figures(HTMLParser):
    """table → row key → column → data-value; and every <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
        self.images: list[str] = []
        self._table = self._row = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = a.get("data-table", "")
        elif tag == "tr" and "data-key" in a:
            self._row = a["data-key"]
            self.tables[self._table][self._row] = {}
        elif tag == "td" and "data-col" in a:
            self.tables[self._table][self._row][a["data-col"]] = a["data-value"]
        elif tag == "img":
            self.images.append(a["src"])


def test_report_figures_equal_the_database(
    traffic: Traffic, snapshot_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    index = write_report(snapshot_dir, out, formats=("svg",))
    page = _Figures()
    page.feed(index.read_text("utf-8"))
    with traffic.services.engine.connect() as conn:
        cons = list(conn.execute(select(t.consignments)).mappings())
        inspections = {r.consignment_id: r.found for r in conn.execute(select(t.inspections))}
        holds = list(conn.execute(select(t.holds)).mappings())

    overview = {k: v["value"] for k, v in page.tables["overview"].items()}
    assert int(overview["parcels"]) == len(cons) == traffic.parcels
    assert int(overview["released"]) == sum(c["status"] == "released" for c in cons)
    assert int(overview["inspected"]) == len(inspections)
    assert int(overview["random_sample"]) == sum(bool(c["random_sample"]) for c in cons)

    # revenue per currency and collection model: exact sums of the stored decimal strings
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for c in cons:
        if c["assessed_currency"]:
            expected[f"{c['assessed_currency']}/{c['collection_model']}"] += Decimal(
                c["assessed_total"]
            )
    shown = {k: Decimal(v["total"]) for k, v in page.tables["revenue"].items()}
    assert shown == expected

    lanes = Counter(c["lane"] or "(none)" for c in cons)
    by_lane = page.tables["breakdown:lane"]
    assert {k: int(v["parcels"]) for k, v in by_lane.items()} == lanes
    dest = Counter(c["destination_country"] for c in cons)
    by_dest = page.tables["breakdown:destination_country"]
    assert {k: int(v["parcels"]) for k, v in by_dest.items()} == dest

    # hit rates: the random-sample baseline counts inspections of sampled parcels
    sampled = [
        cid for cid in inspections if next(c["random_sample"] for c in cons if c["id"] == cid)
    ]
    base = page.tables["hit_rates"]["baseline/random sample"]
    assert int(base["inspected"]) == len(sampled)
    assert int(base["found"]) == sum(inspections[c] for c in sampled)

    # time release per office: arrivals and releases at arrival from the consignments and holds
    offices = page.tables["release_shares:office"]
    assert sum(int(r["arrived"]) for r in offices.values()) == sum(
        c["arrived_at"] is not None for c in cons
    )
    held_ids = {h["consignment_id"] for h in holds}
    at_arrival = sum(1 for c in cons if c["status"] == "released" and c["id"] not in held_ids)
    assert sum(int(r["released"]) for r in offices.values()) == sum(
        c["status"] == "released" for c in cons
    )
    # a parcel released with no hold at all was released at its arrival instant
    assert (
        sum(
            round(float(r["share_released_at_arrival"]) * int(r["arrived"]))
            for r in offices.values()
        )
        == at_arrival
    )
    authorities = Counter(h["authority"] for h in holds)
    shown_holds = {k: int(v["holds"]) for k, v in page.tables["hold_durations"].items()}
    assert shown_holds == authorities

    # charts are local files next to the page; nothing is fetched from the network
    assert page.images and all(not src.startswith(("http:", "https:", "//")) for src in page.images)
    assert all((out / src).is_file() for src in page.images)
    data = json.loads((out / "report.json").read_text())
    assert data["overview"]["parcels"] == len(cons)

    # the dashboard API gives the same figures, JSON-ready
    dash = summary(snapshot_dir)
    json.dumps(dash)
    assert dash["overview"]["parcels"] == len(cons)
    assert {r["key"]: r["parcels"] for r in dash["breakdowns"]["lane"]} == lanes
