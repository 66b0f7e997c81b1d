"""Group commit of single filings, through a real uvicorn server with concurrent clients.

Each client is a thread with its own keep-alive connection. The server gathers what they send
at the same moment into one pipeline batch and one commit (api/group_commit.py); these tests
hold the group window open long enough that groups of several filings form, check that they
did, and check that every answer is the one the filing gets when filed alone.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from clearway.api.app import create_app
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.kernel.clock import FixedClock
from clearway.kernel.codes import make_s10
from clearway.messaging.settings import QueueSettings
from clearway.simulation.generator import TrafficGenerator
from clearway.storage import tables as t
from clearway.storage.tables_queue import outbox
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing

CLIENTS = 8
ANNA: dict[str, Any] = make_filing()["consignee"]
Answer = tuple[int, dict[str, Any]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The app on uvicorn in a thread, and a platform key to file with."""

    def __init__(self, settings: Settings, *, window: float, group_max: int = 256) -> None:
        clock = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        self.svc: Services = build(settings, clock=clock)
        # The history's aggregates (reference prices, entity counts) are by design up to a
        # second behind (storage/history.py), for grouped and lone filings alike; frozen here
        # so that two runs can be compared answer by answer. Same-day totals stay live.
        history = getattr(self.svc.selector, "history", None)
        if history is not None:
            history.max_age = float("inf")
        self.app = create_app(self.svc)
        for buckets in self.app.state.rate_limits:
            buckets.rate = 0
        self.grouper = self.app.state.group_commit
        self.grouper.window = window
        self.grouper.max_group = group_max
        self.key = self.svc.operators.create_key("Group Platform", "platform")
        self.port = _free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="critical")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "uvicorn did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.svc.close()

    def send_all(self, queues: Sequence[Sequence[dict[str, Any]]]) -> list[list[Answer]]:
        """Each queue sent in order on its own connection, all queues at once."""
        start = threading.Barrier(len(queues))

        def client(docs: Sequence[dict[str, Any]]) -> list[Answer]:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            start.wait()
            out = [self.post(conn, doc) for doc in docs]
            conn.close()
            return out

        with ThreadPoolExecutor(len(queues)) as pool:
            return list(pool.map(client, queues))

    def post(self, conn: http.client.HTTPConnection, doc: dict[str, Any]) -> Answer:
        conn.request(
            "POST",
            "/v1/filings",
            json.dumps(doc),
            {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())

    def one_by_one(self, docs: Sequence[dict[str, Any]]) -> list[Answer]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        out = [self.post(conn, doc) for doc in docs]
        conn.close()
        return out

    def count(self, table: Any, *where: Any) -> int:
        with self.svc.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).one()[0])


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made: list[Server] = []
    yield made
    for s in made:
        s.stop()


@pytest.fixture
def other_url(db_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database on the same backend as `db_url`."""
    if db_url.startswith("sqlite"):
        yield db_url.replace(".sqlite", "-alone.sqlite")
        return
    admin: str = request.getfixturevalue("postgres_server")
    name = f"clearway_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{admin.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings(db_url: str, **queue: Any) -> Settings:
    # no random control sample, and a budget that never sends an officer lane to audit: the
    # office's budget is shared by whatever is decided together, grouped or not
    return Settings(
        database_url=db_url,
        sample_rate=0.0,
        budget=1.0,
        queue=QueueSettings(**queue) if queue else QueueSettings(runtime="inline"),
    )


def traffic(parcels: int, seed: int) -> list[dict[str, Any]]:
    """Generated filings: every party's legs, planted violations and split shipments."""
    return [
        msgspec.to_builtins(doc)
        for parcel in TrafficGenerator(seed).parcels(parcels)
        for doc in parcel.filings
    ]


def by_consignee(docs: Sequence[dict[str, Any]], queues: int) -> list[list[dict[str, Any]]]:
    """Filings split over the clients, a consignee's parcels on one client in their order:
    filings that depend on each other's order (a parcel's legs, a consignee's parcels of the
    day) are sent in that order, as they would be one at a time."""
    owners: dict[str, int] = {}
    out: list[list[dict[str, Any]]] = [[] for _ in range(queues)]
    for doc in docs:
        who = json.dumps(doc.get("consignee"), sort_keys=True)
        out[owners.setdefault(who, len(owners) % queues)].append(doc)
    return out


def _without_ids(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("consignment_id", "instance")}


def test_grouped_answers_equal_one_at_a_time(
    db_url: str, other_url: str, servers: list[Server]
) -> None:
    docs = traffic(48, seed=5)
    bad = make_filing(filer_reference="BAD-HS", transport_document="LX555555555CN")
    bad["items"][0]["hs_code"] = "12"
    docs.insert(7, bad)
    docs.insert(20, make_filing(filer_reference="BAD-DATE", legal_date="2026-02-30"))
    queues = by_consignee(docs, CLIENTS)

    grouped = Server(settings(db_url), window=0.25)
    servers.append(grouped)
    answers = grouped.send_all(queues)
    assert grouped.grouper.groups < len(docs)
    assert grouped.grouper.grouped == len(docs)
    sizes = grouped.grouper.grouped / grouped.grouper.groups
    assert sizes > 1.5, f"groups of {sizes:.1f} filings on average: nothing was grouped"
    grouped.stop()
    servers.remove(grouped)

    # the same filings on a fresh database, one request at a time, each its own batch
    alone = Server(settings(other_url), window=0.0, group_max=1)
    servers.append(alone)
    rounds = max(len(q) for q in queues)
    order = [(c, i) for i in range(rounds) for c in range(CLIENTS) if i < len(queues[c])]
    reference = dict(zip(order, alone.one_by_one([queues[c][i] for c, i in order]), strict=True))
    assert alone.grouper.grouped == alone.grouper.groups == len(docs)

    ids: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    for (c, i), (status, body) in reference.items():
        got_status, got = answers[c][i]
        statuses[status] += 1
        assert got_status == status, (queues[c][i]["filer_reference"], got, body)
        assert _without_ids(got) == _without_ids(body), queues[c][i]["filer_reference"]
        if body.get("consignment_id"):
            # the same parcels: a consignment in one run is one consignment in the other
            assert (
                ids.setdefault(got["consignment_id"], body["consignment_id"])
                == body["consignment_id"]
            )
    assert statuses[201] > 30 and statuses[422] >= 2, statuses


def test_concurrent_copies_store_each_filing_once(db_url: str, servers: list[Server]) -> None:
    """Every filing sent by all eight clients at once: one is accepted, the others are
    duplicates that carry the stored decision; amendments race into distinct versions."""
    docs = [d for d in traffic(12, seed=9) if not d["filer_reference"].endswith("-PLACI")][:10]
    amended = [
        make_filing(filer_reference="AMEND-1", transport_cost=f"{4 + n}.50") for n in range(4)
    ]
    queues: list[list[dict[str, Any]]] = []
    rng = random.Random(3)
    for c in range(CLIENTS):
        mine = list(docs) + ([amended[c]] if c < len(amended) else [])
        rng.shuffle(mine)
        queues.append(mine)
    server = Server(settings(db_url), window=0.1)
    servers.append(server)
    answers = [a for q in server.send_all(queues) for a in q]
    assert server.grouper.grouped / server.grouper.groups > 1.5

    by_ref: dict[str, list[Answer]] = {}
    for status, body in answers:
        by_ref.setdefault(body["filer_reference"], []).append((status, body))
    for doc in docs:
        ref = doc["filer_reference"]
        got = by_ref[ref]
        assert len(got) == CLIENTS
        outcomes = Counter((status, body["outcome"]) for status, body in got)
        assert outcomes == {(201, "accepted"): 1, (200, "duplicate"): CLIENTS - 1}, (ref, outcomes)
        first = next(body for status, body in got if status == 201)
        for _, body in got:
            assert body["consignment_id"] == first["consignment_id"]
            assert body["version"] == first["version"] == 1
            # a duplicate answers with the stored state, never a half-made one
            assert (body["status"], body.get("decision")) == (first["status"], first["decision"])
        assert server.count(t.filings, t.filings.c.filer_reference == ref) == 1
    versions = sorted(body["version"] for _, body in by_ref["AMEND-1"])
    assert versions == [1, 2, 3, 4]
    assert Counter(body["outcome"] for _, body in by_ref["AMEND-1"]) == {
        "accepted": 1,
        "amended": 3,
    }
    assert server.count(t.filings, t.filings.c.filer_reference == "AMEND-1") == 4
    assert server.count(t.consignments) == len(docs) + 1


class Gate:
    """Around the pipeline: records each batch's filer references; holds the lead filing's
    batch until the filings sent behind it all wait, so they go in one group; can make the
    storage refuse one filing (as a database refuses a value too long for its column)."""

    def __init__(self, server: Server, refuse: str | None = None) -> None:
        self.server = server
        self.real = server.grouper.process
        self.refuse = refuse
        self.batches: list[list[str]] = []
        self.hold_for = 0
        self.entered = threading.Event()
        server.grouper.process = self

    def __call__(self, filer: Filer, batch: Sequence[Submission]) -> list[FilingResult]:
        refs = [s.document.filer_reference if s.document else "?" for s in batch]
        self.batches.append(refs)
        self.entered.set()
        deadline = time.monotonic() + 120
        while self.hold_for and time.monotonic() < deadline:
            if self.server.grouper.waiting() >= self.hold_for:
                self.hold_for = 0
            time.sleep(0.01)
        if self.refuse in refs:
            raise DataError("INSERT …", {}, ValueError("value too long for the column"))
        return self.real(filer, batch)

    def behind(self, lead: dict[str, Any], docs: list[dict[str, Any]]) -> list[Answer]:
        """`lead` filed first; `docs` sent all at once while its batch is held."""
        self.hold_for = len(docs)
        self.entered.clear()
        first: list[Answer] = []
        thread = threading.Thread(target=lambda: first.extend(self.server.one_by_one([lead])))
        thread.start()
        assert self.entered.wait(120)
        answers = [q[0] for q in self.server.send_all([[d] for d in docs])]
        thread.join()
        assert first[0][0] == 201, first
        return answers


def parcel(ref: str, n: int) -> dict[str, Any]:
    """A valid filing about a parcel of its own, to a consignee of its own."""
    return make_filing(
        filer_reference=ref,
        transport_document=make_s10("LX", n, "CN"),
        order={"id": f"O-{ref}", "total": "27.40"},
        payment={"id": f"P-{ref}", "amount": "27.40", "currency": "EUR"},
        consignee={**ANNA, "name": f"Person {ref}"},
    )


def test_a_bad_filing_gets_its_own_answer(db_url: str, servers: list[Server]) -> None:
    """Six filings in one group: the invalid one is a 422 with its problem, the rest are
    stored; a filing the storage refuses fails alone, after the group is filed one by one."""
    server = Server(settings(db_url), window=0.0)
    servers.append(server)
    gate = Gate(server, refuse="REFUSED")
    invalid = make_filing(filer_reference="INVALID", transport_document=make_s10("LX", 99, "CN"))
    invalid["items"][1]["quantity"] = 0
    good = [parcel(f"GOOD-{n}", 100 + n) for n in range(5)]
    answers = gate.behind(parcel("LEAD-1", 1), [*good, invalid])
    assert sorted(gate.batches[1]) == sorted([*(d["filer_reference"] for d in good), "INVALID"])
    for status, body in answers[:-1]:
        assert status == 201 and body["outcome"] == "accepted", body
    status, problem = answers[-1]
    assert status == 422 and problem["type"].endswith("/invalid-input"), problem
    assert any(p["path"].startswith("/items/1") for p in problem["problems"]), problem
    assert server.count(t.filings) == 6

    gate.batches.clear()
    answers = gate.behind(
        parcel("LEAD-2", 2), [parcel("KEPT-1", 201), parcel("REFUSED", 202), parcel("KEPT-2", 203)]
    )
    group, *alone = gate.batches[1:]
    assert sorted(group) == ["KEPT-1", "KEPT-2", "REFUSED"]
    assert sorted(alone) == [["KEPT-1"], ["KEPT-2"], ["REFUSED"]]
    assert [a[0] for a in answers] == [201, 422, 201], answers
    assert answers[1][1]["type"].endswith("/invalid-input")
    assert server.count(t.filings) == 9
    assert server.count(t.filings, t.filings.c.filer_reference == "REFUSED") == 0


def test_a_consignees_parcels_of_the_day_are_not_grouped(
    db_url: str, servers: list[Server]
) -> None:
    """Four parcels of one consignee from one seller on one day, together over the split
    threshold, sent at once: filed one after another, the first is under the threshold and
    each later one is flagged; in one batch all four would be. They never share a group."""
    split = [p for p in TrafficGenerator(4).parcels(30) if p.violations == ["split_shipment"]]
    docs = [msgspec.to_builtins(p.filings[0]) for p in split]
    assert len(docs) == 4 and len({d["consignee"]["name"] for d in docs}) == 1
    server = Server(settings(db_url), window=0.0)
    servers.append(server)
    gate = Gate(server)
    answers = gate.behind(parcel("LEAD-S", 7), docs)
    assert all(len(b) == 1 for b in gate.batches), gate.batches
    flagged = [
        any(r["code"].startswith("FIS-SPLIT") for r in body["decision"].get("reasons", []))
        for _, body in answers
    ]
    assert sorted(flagged) == [False, True, True, True], answers


def test_queued_runtime_groups_answer_202(pg_url: str, servers: list[Server]) -> None:
    """Queued runtime: a group is stored with one pending decision per parcel and answered 202;
    copies sent at the same time are duplicates and owe nothing more."""
    server = Server(
        settings(pg_url, runtime="queued", name="group_commit_test", relay_in_api=False),
        window=0.1,
    )
    servers.append(server)
    docs = [d for d in traffic(16, seed=21) if not d["filer_reference"].endswith("-PLACI")]
    queues = [docs[c::CLIENTS] + docs[: 2 if c < 2 else 0] for c in range(CLIENTS)]
    answers = [a for q in server.send_all(queues) for a in q]
    assert server.grouper.grouped / server.grouper.groups > 1.5
    outcomes = Counter((status, body["outcome"]) for status, body in answers)
    assert outcomes[(202, "accepted")] == len(docs), outcomes
    assert outcomes[(200, "duplicate")] == 4, outcomes
    assert server.count(t.filings) == len(docs)
    parcels = len({d["transport_document"] for d in docs})
    assert server.count(t.consignments) == parcels
    assert server.count(outbox) == parcels  # one decision owed per parcel, none twice
