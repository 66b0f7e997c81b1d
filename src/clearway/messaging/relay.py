"""The relay: publishes outbox rows to JetStream, one leader at a time.

Every relay (a `clearway relay` process, or a thread in each API process) tries to take a
PostgreSQL advisory lock; the holder relays, the others wait as standbys and take over within a
second of its death. The leader keeps at most `window` messages in the stream and leaves the
rest in the outbox, from which it picks fairly across owners; a row is deleted only after
JetStream acknowledged its message.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from clearway.messaging.jetstream import (
    NATS_ERRORS,
    client_name,
    ensure_streams,
    in_stream,
)
from clearway.messaging.settings import QueueSettings
from clearway.messaging.stoppable import Stoppable
from clearway.storage.outbox import delete_published, fair_batch, try_lead

log = logging.getLogger("clearway.queue")
PUBLISH_TIMEOUT_S = 5.0
STANDBY_POLL_S = 1.0


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "clearway_outbox_published", "Outbox rows published to JetStream", registry=registry
        )
        self.leader = Gauge(
            "clearway_relay_leader", "1 while this process is the relay leader", registry=registry
        )


class Relay(Stoppable):
    def __init__(
        self,
        engine: Engine,
        settings: QueueSettings,
        *,
        batch: int = 500,
        poll: float = 0.02,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.batch = batch
        self.poll = poll
        self.metrics = metrics
        self.leading = False
        super().__init__()

    async def run(self) -> None:
        if not self._begin():
            return
        nc = await self._connect(self.settings.nats_url, "relay")
        if nc is None:
            return
        js = nc.jetstream()
        try:
            while not self.stopped:
                try:
                    await ensure_streams(js, self.settings)
                    break
                except NATS_ERRORS as exc:
                    log.warning("relay: cannot set up the streams yet (%s)", type(exc).__name__)
                    await self._sleep(1.0)
            while not self.stopped:
                await self._lead(js)
        finally:
            await nc.close()

    # ------------------------------------------------------------ leadership
    async def _lead(self, js: JetStreamContext) -> None:
        """Take the lock and relay until stopped or the database connection fails."""
        try:
            conn = self.engine.connect()
        except SQLAlchemyError as exc:
            log.warning("relay: database unavailable (%s)", type(exc).__name__)
            await self._sleep(STANDBY_POLL_S)
            return
        try:
            conn.execute(
                text("SELECT set_config('application_name', :n, false)"),
                {"n": client_name("relay")[:63]},
            )
            if not try_lead(conn, self.settings.name):
                await self._sleep(STANDBY_POLL_S)
                return
            log.info("relay: leading for queue %s", self.settings.name)
            self._set_leading(True)
            await self._relay(conn, js)
        except SQLAlchemyError as exc:
            log.warning("relay: lost the database (%s); standing by", type(exc).__name__)
            await self._sleep(STANDBY_POLL_S)
        finally:
            self._set_leading(False)
            conn.close()  # closing the session releases the advisory lock

    def _set_leading(self, value: bool) -> None:
        self.leading = value
        if self.metrics is not None:
            self.metrics.leader.set(1 if value else 0)

    async def _relay(self, conn: Connection, js: JetStreamContext) -> None:
        s = self.settings
        while not self.stopped:
            try:
                room = s.window - await in_stream(js, s)
            except NATS_ERRORS:
                await self._sleep(0.5)  # NATS away: the outbox keeps everything meanwhile
                continue
            if room <= 0:
                await self._sleep(self.poll)
                continue
            rows = fair_batch(conn, min(room, self.batch))
            conn.commit()
            if not rows:
                await self._sleep(self.poll)
                continue
            try:
                futures = [
                    await js.publish_async(
                        s.decide_subject, r.payload, headers={"Nats-Msg-Id": r.key}
                    )
                    for r in rows
                ]
                await asyncio.wait_for(asyncio.gather(*futures), PUBLISH_TIMEOUT_S)
            except NATS_ERRORS as exc:
                # nothing deleted: the rows go out again, under the same message ids
                log.warning("relay: publish failed (%s); retrying", type(exc).__name__)
                await self._sleep(0.5)
                continue
            delete_published(conn, [r.id for r in rows])
            conn.commit()
            if self.metrics is not None:
                self.metrics.published.inc(len(rows))


class RelayThread:
    """A relay inside another process (the API's), on its own thread and event loop."""

    def __init__(self, relay: Relay, on_error: Callable[[BaseException], None] | None = None):
        self.relay = relay
        self.on_error = on_error
        self.thread = threading.Thread(target=self._main, name="clearway-relay", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self.relay.run())
        except BaseException as exc:  # a dead relay thread must say so, not vanish
            log.exception("relay thread stopped")
            if self.on_error is not None:
                self.on_error(exc)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.relay.stop()
        self.thread.join(timeout)
