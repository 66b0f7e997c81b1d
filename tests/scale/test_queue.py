"""The queued runtime in one process: API → outbox → relay → JetStream → worker → decision.

Real PostgreSQL and a real nats-server; the relay and worker run on threads here (the fault
tests in test_faults.py run them as processes and kill them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import msgspec
import nats
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from clearway.api.app import create_app
from clearway.clearance.pending import PendingDecision
from clearway.clearance.pipeline import PendingOutcome
from clearway.messaging.jetstream import ensure_streams
from clearway.messaging.settings import QueueSettings
from clearway.messaging.status import gather
from clearway.messaging.worker import Worker, WorkerMetrics
from clearway.wiring.runtime import worker_for
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.scale.conftest import NatsServer
from tests.scale.harness import Background, filing, queued_services, scalar, wait_for

pytestmark = pytest.mark.postgres
DECISION_ORDER = """
SELECT o.name FROM events e
JOIN consignments c ON c.id = e.consignment_id JOIN operators o ON o.id = c.owner_id
WHERE e.kind = 'decide' ORDER BY e.id
"""
FILED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def svc(pg_url: str, nats_server: NatsServer, queue_name: str) -> Iterator[Services]:
    services = queued_services(pg_url, nats_server.url, queue_name, ack_wait=5.0)
    yield services
    services.close()


@pytest.fixture
def api(svc: Services) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = svc.operators.create_key("Platform A", "platform")
    with TestClient(create_app(svc)) as client:  # the lifespan starts the embedded relay
        yield client, {"Authorization": f"Bearer {key}"}


def decided(svc: Services) -> int:
    return int(scalar(svc, "SELECT count(*) FROM consignments WHERE status = 'decided'"))


def test_accepted_with_202_then_decided_once_by_a_worker(
    svc: Services, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    answers = [client.post("/v1/filings", json=filing(n), headers=auth) for n in range(20)]
    assert [a.status_code for a in answers] == [202] * 20
    first = answers[0].json()
    assert first["status"] == "filed" and first.get("decision") is None and first["consignment_id"]
    # nothing decides before a worker runs; the relay has moved the outbox into the stream
    wait_for(
        "the relay to empty the outbox", lambda: scalar(svc, "SELECT count(*) FROM outbox") == 0
    )
    assert decided(svc) == 0
    worker = Background(worker_for(svc))
    try:
        wait_for("20 decisions", lambda: decided(svc) == 20)
    finally:
        worker.stop()
    got = client.get(f"/v1/consignments/{first['consignment_id']}", headers=auth).json()
    assert got["status"] == "decided" and got["decision"]["lane"] in ("green", "yellow", "red")
    # exactly one assessment and one decision event per consignment, one decision notice each
    assert scalar(svc, "SELECT count(*) FROM events WHERE kind = 'decide'") == 20
    assert scalar(svc, "SELECT count(*) FROM events WHERE kind = 'assess'") == 20
    feed = client.get("/v1/notices?limit=100", headers=auth).json()
    kinds = [n["notice"]["kind"] for n in feed["notices"]]
    assert kinds.count("decision") == 20
    # a repeat of a filing is a duplicate (200), stores nothing and queues nothing
    again = client.post("/v1/filings", json=filing(0), headers=auth)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert scalar(svc, "SELECT count(*) FROM outbox") == 0


def test_redelivery_and_superseded_versions_change_nothing(
    svc: Services, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    one = client.post("/v1/filings", json=filing(1), headers=auth).json()
    amended = filing(1, transport_cost="6.00")
    two = client.post("/v1/filings", json=amended, headers=auth).json()
    assert two["outcome"] == "amended" and two["version"] == 2
    cid = one["consignment_id"]
    v1 = _pending(svc, cid, 1)
    v2 = _pending(svc, cid, 2)
    # version 1 is no longer the stored one: deciding it changes nothing
    assert svc.pipeline.decide_pending([v1]) == ["superseded"]
    assert svc.pipeline.decide_pending([v2, v2]) == ["decided", "superseded"]
    # a redelivery after the commit (the worker died before acknowledging) changes nothing
    events = scalar(svc, "SELECT count(*) FROM events WHERE consignment_id = :c", c=cid)
    assert svc.pipeline.decide_pending([v2]) == ["superseded"]
    assert scalar(svc, "SELECT count(*) FROM events WHERE consignment_id = :c", c=cid) == events
    c = svc.store.load(cid)
    assert c is not None and c.status == "decided" and c.version == 2
    assert str(c.document.transport_cost) == "6.00"  # decided on the amended document
    assert svc.pipeline.decide_pending([_pending(svc, "cns_missing", 1)]) == ["unknown"]


def _pending(svc: Services, cid: str, version: int) -> PendingDecision:
    """The pending decision of a consignment version, as the API wrote it (the embedded relay
    may already have published and deleted the outbox row, so it is rebuilt here)."""
    owner = scalar(svc, "SELECT owner_id FROM consignments WHERE id = :c", c=cid) or "op"
    return PendingDecision(
        cid, version, owner, owner, "Platform A", "platform", "platform", FILED_AT
    )


def test_poison_messages_are_dead_lettered_with_the_problem(
    svc: Services, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    q = svc.settings.queue

    async def publish_poison() -> None:
        nc = await nats.connect(q.nats_url)
        js = nc.jetstream()
        await ensure_streams(js, q)
        await js.publish(q.decide_subject, b"{not json")
        ghost = _pending(svc, "cns_does_not_exist", 1)
        await js.publish(q.decide_subject, msgspec.json.encode(ghost))
        await nc.close()

    asyncio.run(publish_poison())
    client.post("/v1/filings", json=filing(7), headers=auth)
    worker = Background(worker_for(svc))
    try:
        wait_for("the good filing to be decided", lambda: decided(svc) == 1)
        wait_for(
            "two dead letters",
            lambda: (
                (st := gather(svc.engine, q)).stream is not None and st.stream.dead_letters == 2
            ),
        )
    finally:
        worker.stop()
    st = gather(svc.engine, q)
    assert st.stream is not None and st.stream.lag == 0
    titles = sorted(str(d["title"]) for d in st.dead)
    assert titles == ["decision not made: undecodable", "decision not made: unknown consignment"]
    ghost = next(d for d in st.dead if d["consignment_id"] == "cns_does_not_exist")
    assert "no consignment cns_does_not_exist" in str(ghost["detail"])
    # operators see them on the command line too
    from typer.testing import CliRunner

    from clearway.cli.main import app

    env = {
        "CLEARWAY_RUNTIME": "queued",
        "CLEARWAY_NATS_URL": q.nats_url,
        "CLEARWAY_QUEUE_NAME": q.name,
    }
    out = CliRunner().invoke(
        app, ["queue", "status", "--json", "--database", svc.settings.database_url], env=env
    )
    assert out.exit_code == 0, out.output
    doc = msgspec.json.decode(out.stdout)
    assert doc["stream"]["dead_letters"] == 2 and doc["outbox"]["rows"] == 0


def test_a_burst_from_one_filer_does_not_starve_another(
    pg_url: str, nats_server: NatsServer, queue_name: str
) -> None:
    svc = queued_services(pg_url, nats_server.url, queue_name, window=50)
    try:
        burst_key = svc.operators.create_key("Big Platform", "platform")
        small_key = svc.operators.create_key("Small Shop", "platform")
        with TestClient(create_app(svc)) as client:
            burst = [filing(n, f"B-{n}") for n in range(1000, 1400)]
            for start in range(0, len(burst), 200):
                r = client.post(
                    "/v1/filings/batch",
                    json=burst[start : start + 200],
                    headers={"Authorization": f"Bearer {burst_key}"},
                )
                assert r.status_code == 202
            # the small shop files after the whole burst is stored
            for n in range(2000, 2005):
                r = client.post(
                    "/v1/filings",
                    json=filing(n, f"S-{n}"),
                    headers={"Authorization": f"Bearer {small_key}"},
                )
                assert r.status_code == 202
            worker = Background(worker_for(svc, batch=25))
            try:
                wait_for("all 405 decisions", lambda: decided(svc) == 405, timeout=120)
            finally:
                worker.stop()
        # decision order: the owner of each decide event, in the order they were written
        with svc.engine.connect() as conn:
            owners = [r[0] for r in conn.execute(text(DECISION_ORDER))]
        small_positions = [i for i, name in enumerate(owners) if name == "Small Shop"]
        # FIFO would put them after all 400; fair picking puts them within the first window
        assert len(small_positions) == 5
        assert max(small_positions) < 120, small_positions
    finally:
        svc.close()


def test_health_reports_nats_and_the_queued_runtime_needs_postgresql(
    pg_url: str, sqlite_url: str, queue_name: str
) -> None:
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        build(Settings(database_url=sqlite_url, queue=QueueSettings(runtime="queued")))
    svc = queued_services(pg_url, "nats://127.0.0.1:1", queue_name, relay_in_api=False)
    try:
        with TestClient(create_app(svc)) as client:
            r = client.get("/healthz")
        # the API still accepts filings (the outbox keeps them): in service, but degraded
        body = r.json()
        assert r.status_code == 200 and body["status"] == "degraded", body
        assert body["database"] == "ok" and body["queue"].startswith("error: NATS unreachable")
    finally:
        svc.close()


def test_a_batch_slower_than_the_ack_wait_is_not_delivered_twice(
    pg_url: str, nats_server: NatsServer, queue_name: str
) -> None:
    """The worker says `in progress` while it decides, so JetStream does not hand a slow batch
    to another worker after the ack wait (3 s here; the batch takes 8 s)."""
    svc = queued_services(pg_url, nats_server.url, queue_name, ack_wait=3.0)
    calls: list[list[str]] = []

    def slow(pending: Sequence[PendingDecision]) -> list[PendingOutcome]:
        calls.append([p.key for p in pending])
        time.sleep(8.0)
        return svc.pipeline.decide_pending(pending)

    try:
        key = svc.operators.create_key("Platform A", "platform")
        with TestClient(create_app(svc)) as client:
            r = client.post(
                "/v1/filings/batch",
                json=[filing(n, f"W-{n}") for n in range(3000, 3010)],
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 202
            wait_for("the outbox relayed", lambda: scalar(svc, "SELECT count(*) FROM outbox") == 0)
            registry = CollectorRegistry()
            worker = Worker(slow, svc.settings.queue, batch=50, metrics=WorkerMetrics(registry))
            first, second = (
                Background(worker),
                Background(Worker(slow, svc.settings.queue, batch=50)),
            )
            try:
                wait_for("10 decisions", lambda: decided(svc) == 10, timeout=60)
                time.sleep(3.5)  # past another ack wait: a redelivery would show now
            finally:
                first.stop()
                second.stop()
        keys = [k for batch in calls for k in batch]
        assert len(keys) == 10 and len(set(keys)) == 10, calls
        assert registry.get_sample_value("clearway_queue_redeliveries_total") == 0
    finally:
        svc.close()
