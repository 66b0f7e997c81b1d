"""What operators see of the queue: `clearway queue status`, `/metrics` gauges, `/healthz`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from clearway.messaging.jetstream import (
    StreamState,
    connect,
    dead_letters,
    stream_state,
)
from clearway.messaging.settings import QueueSettings
from clearway.storage.outbox import depth, leader

NATS_TIMEOUT_S = 2.0


@dataclass
class QueueStatus:
    queue: str
    nats_url: str
    outbox_rows: int
    outbox_oldest_seconds: float | None
    relay_leader: str | None
    stream: StreamState | None = None
    nats_error: str | None = None
    dead: list[dict[str, object]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "queue": self.queue,
            "nats_url": self.nats_url,
            "outbox": {"rows": self.outbox_rows, "oldest_seconds": self.outbox_oldest_seconds},
            "relay_leader": self.relay_leader,
            "nats_error": self.nats_error,
            "dead_letters": self.dead,
        }
        if self.stream is not None:
            out["stream"] = {**vars_of(self.stream), "lag": self.stream.lag}
        return out


def vars_of(state: StreamState) -> dict[str, object]:
    return {k: getattr(state, k) for k in state.__dataclass_fields__}


async def _nats_part(s: QueueSettings, last: int) -> tuple[StreamState, list[bytes]]:
    nc = await asyncio.wait_for(connect(s.nats_url, "status"), NATS_TIMEOUT_S)
    try:
        js = nc.jetstream()
        state = await asyncio.wait_for(stream_state(js, s), NATS_TIMEOUT_S)
        letters = await asyncio.wait_for(dead_letters(js, s, last), NATS_TIMEOUT_S) if last else []
        return state, letters
    finally:
        await nc.close()


def gather(engine: Engine, s: QueueSettings, *, last_dead: int = 5) -> QueueStatus:
    """The outbox (PostgreSQL), the stream and consumer (JetStream) and the newest dead letters."""
    out = depth(engine)
    oldest = out.oldest
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    status = QueueStatus(
        s.name,
        s.nats_url,
        out.rows,
        (datetime.now(UTC) - oldest).total_seconds() if oldest else None,
        leader(engine, s.name),
    )
    try:
        status.stream, letters = asyncio.run(_nats_part(s, last_dead))
        status.dead = [msgspec.json.decode(b) for b in letters]
    except Exception as exc:  # reported, not raised: status must work when NATS is away
        status.nats_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return status


class QueueCollector(Collector):
    """Prometheus gauges read at scrape time: outbox depth and age, stream lag, dead letters."""

    def __init__(self, engine: Engine, settings: QueueSettings) -> None:
        self.engine = engine
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        st = gather(self.engine, self.settings, last_dead=0)
        yield GaugeMetricFamily(
            "clearway_outbox_depth", "Outbox rows not yet published", value=st.outbox_rows
        )
        yield GaugeMetricFamily(
            "clearway_outbox_oldest_seconds",
            "Age of the oldest unpublished outbox row",
            value=st.outbox_oldest_seconds or 0.0,
        )
        yield GaugeMetricFamily(
            "clearway_queue_up", "1 if NATS JetStream answered", value=0 if st.nats_error else 1
        )
        if st.stream is not None:
            yield GaugeMetricFamily(
                "clearway_stream_lag",
                "Messages not yet acknowledged by a worker (pending + in flight)",
                value=st.stream.lag,
            )
            yield GaugeMetricFamily(
                "clearway_stream_in_flight",
                "Messages delivered to a worker and not yet acknowledged",
                value=st.stream.in_flight,
            )
            yield GaugeMetricFamily(
                "clearway_dead_letters",
                "Messages in the dead-letter stream",
                value=st.stream.dead_letters,
            )
