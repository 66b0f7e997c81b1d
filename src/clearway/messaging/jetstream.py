"""NATS JetStream adapter: connection, the two streams and the workers' consumer, their state.

Stream `<name>` (work-queue retention, file storage) carries one message per decision owed, on
subject `<name>.decide`; a message leaves the stream when a worker acknowledges it, so the
stream holds exactly the backlog. Stream `<name>_dead` keeps dead letters (`<name>.dead`) for 30
days for operators to inspect. Publishers set `Nats-Msg-Id` to `<consignment id>:<version>`, so a
relay that publishes a row again (after a crash) is deduplicated within the two-minute window.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from clearway.messaging.settings import QueueSettings

log = logging.getLogger("clearway.queue")
DUPLICATE_WINDOW_S = 120.0
DEAD_LETTER_DAYS = 30
NATS_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, asyncio.TimeoutError, OSError)


def client_name(role: str) -> str:
    return f"clearway-{role} {socket.gethostname()}:{os.getpid()}"


async def connect(url: str, role: str, *, timeout: float = 2.0) -> Client:
    """Connect, retrying until NATS answers and reconnecting for ever afterwards: a process may
    start before NATS, and a NATS restart is ridden out. Bound it with `asyncio.wait_for`."""
    last: list[str] = []

    async def quiet(exc: Exception) -> None:
        # one line per kind of failure, not a traceback per reconnect attempt
        what = f"{type(exc).__name__}: {exc}"
        if not last or last[0] != what:
            log.warning("NATS %s: %s", url, what)
            last[:] = [what]

    async def back() -> None:
        last.clear()
        log.info("NATS %s: connected", url)

    return await nats.connect(
        url,
        name=client_name(role),
        connect_timeout=max(1, int(timeout)),
        reconnect_time_wait=0.5,
        max_reconnect_attempts=-1,
        allow_reconnect=True,
        error_cb=quiet,
        reconnected_cb=back,
    )


async def ensure_streams(js: JetStreamContext, s: QueueSettings) -> None:
    """Create the streams and the workers' durable consumer unless they exist (idempotent)."""
    await _ensure_stream(
        js,
        StreamConfig(
            name=s.name,
            subjects=[s.decide_subject],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
    )
    await _ensure_stream(
        js,
        StreamConfig(
            name=s.dead_stream,
            subjects=[s.dead_subject],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=DEAD_LETTER_DAYS * 86_400.0,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
    )
    try:
        await js.consumer_info(s.name, s.consumer)
    except NotFoundError:
        await js.add_consumer(
            s.name,
            ConsumerConfig(
                durable_name=s.consumer,
                filter_subject=s.decide_subject,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=s.ack_wait,
                max_deliver=-1,  # the worker dead-letters by itself, with the problem
                max_ack_pending=max(10_000, 4 * s.window),
            ),
        )


async def _ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)


@dataclass(frozen=True, slots=True)
class StreamState:
    """What the queue holds now."""

    in_stream: int  # messages published and not yet acknowledged by a worker
    pending: int  # of those, not yet delivered to any worker
    in_flight: int  # delivered, not yet acknowledged
    redelivered: int  # in flight for at least the second time
    dead_letters: int
    workers_waiting: int  # pull requests waiting at the consumer (idle workers)

    @property
    def lag(self) -> int:
        return self.pending + self.in_flight


async def stream_state(js: JetStreamContext, s: QueueSettings) -> StreamState:
    info = await js.stream_info(s.name)
    consumer = await js.consumer_info(s.name, s.consumer)
    dead = await js.stream_info(s.dead_stream)
    return StreamState(
        in_stream=int(info.state.messages),
        pending=int(consumer.num_pending or 0),
        in_flight=int(consumer.num_ack_pending or 0),
        redelivered=int(consumer.num_redelivered or 0),
        dead_letters=int(dead.state.messages),
        workers_waiting=int(consumer.num_waiting or 0),
    )


async def in_stream(js: JetStreamContext, s: QueueSettings) -> int:
    info = await js.stream_info(s.name)
    return int(info.state.messages)


async def dead_letters(js: JetStreamContext, s: QueueSettings, last: int) -> list[bytes]:
    """The payloads of the newest `last` dead letters, oldest first."""
    info = await js.stream_info(s.dead_stream)
    first, newest = int(info.state.first_seq), int(info.state.last_seq)
    out: list[bytes] = []
    for seq in range(max(first, newest - last + 1), newest + 1):
        try:
            msg = await js.get_msg(s.dead_stream, seq)
        except NotFoundError:
            continue
        if msg.data is not None:
            out.append(msg.data)
    return out


async def probe(url: str, s: QueueSettings, timeout: float = 2.0) -> str:
    """'ok' when NATS answers and the queue's stream exists, else what is wrong."""
    try:
        nc = await asyncio.wait_for(connect(url, "health", timeout=timeout), timeout)
    except Exception as exc:
        return f"error: NATS unreachable at {url} ({type(exc).__name__})"
    try:
        await asyncio.wait_for(nc.jetstream().stream_info(s.name), timeout)
        return "ok"
    except NotFoundError:
        return f"error: no stream {s.name} (start a relay or a worker to create it)"
    except Exception as exc:
        return f"error: JetStream did not answer ({type(exc).__name__})"
    finally:
        await nc.close()
