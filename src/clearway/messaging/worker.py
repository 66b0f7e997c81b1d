"""The worker: one member of the durable consumer group that assesses and decides.

It fetches a batch, hands it to the clearance pipeline's `decide_pending` (the same assess-and-
decide step the inline runtime runs), and acknowledges each message only after that commit. A
redelivered message finds its version decided already and changes nothing. A message that cannot
be processed goes to the dead-letter stream with the problem: at once when retrying cannot help
(undecodable, unknown consignment, a domain rule), after `max_deliver` attempts otherwise. A
database outage is not the message's fault: those messages are retried, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.exc import DBAPIError, OperationalError

from clearway.clearance.pending import PendingDecision, decode_pending
from clearway.clearance.pipeline import PendingOutcome
from clearway.kernel.errors import ClearwayError
from clearway.messaging.jetstream import NATS_ERRORS, ensure_streams
from clearway.messaging.settings import QueueSettings
from clearway.messaging.stoppable import Stoppable

log = logging.getLogger("clearway.queue")
Decide = Callable[[Sequence[PendingDecision]], list[PendingOutcome]]
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "clearway_queue_decisions",
            "Pending decisions handled: decided, superseded (already decided or a later version "
            "is stored) or unknown",
            ["outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "clearway_filing_to_decision_seconds",
            "Time from a filing's acceptance to its decision",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.dead = Counter(
            "clearway_queue_dead_letters",
            "Messages moved to the dead-letter stream",
            ["reason"],
            registry=registry,
        )
        self.redelivered = Counter(
            "clearway_queue_redeliveries", "Messages received more than once", registry=registry
        )
        self.batch_seconds = Histogram(
            "clearway_queue_batch_seconds", "Time to decide and commit one batch", registry=registry
        )


class DeadLetter(msgspec.Struct):
    """What operators see for a message that could not be processed (RFC 9457 fields + where)."""

    type: str
    title: str
    detail: str
    subject: str
    stream_sequence: int
    deliveries: int
    at: datetime
    consignment_id: str | None = None
    version: int | None = None
    message: str = ""


def _transient(exc: BaseException) -> bool:
    """A database outage or lost connection: retry, it is not the message's fault."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class Worker(Stoppable):
    def __init__(
        self,
        decide: Decide,
        settings: QueueSettings,
        *,
        batch: int = 200,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        super().__init__()
        self.decide = decide
        self.settings = settings
        self.batch = batch
        self.metrics = metrics
        self.handled = 0

    async def run(self) -> None:
        if not self._begin():
            return
        nc = await self._connect(self.settings.nats_url, "worker")
        if nc is None:
            return
        js = nc.jetstream()
        s = self.settings
        try:
            sub = None
            while sub is None and not self.stopped:
                try:
                    await ensure_streams(js, s)
                    sub = await js.pull_subscribe_bind(durable=s.consumer, stream=s.name)
                except NATS_ERRORS as exc:
                    log.warning("worker: cannot bind to the queue yet (%s)", type(exc).__name__)
                    await self._sleep(1.0)
            while not self.stopped and sub is not None:
                try:
                    msgs = await sub.fetch(self.batch, timeout=1.0)
                except TimeoutError:
                    continue
                except NATS_ERRORS as exc:
                    log.warning("worker: fetch failed (%s)", type(exc).__name__)
                    await self._sleep(0.5)
                    continue
                await self.handle(js, msgs)
        finally:
            await nc.close()

    # ------------------------------------------------------------ one batch
    async def handle(self, js: JetStreamContext, msgs: list[Msg]) -> None:
        good: list[tuple[Msg, PendingDecision]] = []
        for m in msgs:
            if self.metrics is not None and m.metadata.num_delivered > 1:
                self.metrics.redelivered.inc()
            try:
                good.append((m, decode_pending(m.data)))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self._dead(js, m, None, "undecodable", f"not a pending decision: {exc}")
        if not good:
            return
        start = time.perf_counter()
        try:
            outcomes = await self._deciding([p for _, p in good], [m for m, _ in good])
        except Exception as exc:
            if _transient(exc):
                log.warning("worker: database unavailable (%s); retrying", type(exc).__name__)
                for m, _ in good:
                    await m.nak(delay=1.0)
                await self._sleep(1.0)
                return
            await self._one_by_one(js, good)
            return
        if self.metrics is not None:
            self.metrics.batch_seconds.observe(time.perf_counter() - start)
        await self._settle(js, good, outcomes)

    async def _deciding(
        self, pending: list[PendingDecision], msgs: list[Msg]
    ) -> list[PendingOutcome]:
        """Decide in a thread, telling JetStream the batch is in progress every third of the
        ack wait: a batch slower than the ack wait (a big batch on a busy machine) is not
        delivered to another worker meanwhile — that would only be work done twice, since the
        second commit finds the version decided."""
        task = asyncio.ensure_future(asyncio.to_thread(self.decide, pending))
        beat = self.settings.ack_wait / 3
        while True:
            done, _ = await asyncio.wait({task}, timeout=beat)
            if done:
                return task.result()
            for m in msgs:
                try:
                    await m.in_progress()
                except NATS_ERRORS:
                    break  # NATS away: the messages come back after the ack wait, harmlessly

    async def _one_by_one(
        self, js: JetStreamContext, good: list[tuple[Msg, PendingDecision]]
    ) -> None:
        """A batch failed: find the message at fault; the others are decided normally."""
        for m, p in good:
            try:
                [outcome] = await asyncio.to_thread(self.decide, [p])
            except ClearwayError as exc:  # a domain rule: the same input fails the same way
                await self._dead(js, m, p, "domain-rule", exc.detail)
                continue
            except Exception as exc:
                if _transient(exc):
                    await m.nak(delay=1.0)
                elif m.metadata.num_delivered >= self.settings.max_deliver:
                    await self._dead(js, m, p, "failed", f"{type(exc).__name__}: {exc}")
                else:
                    log.warning(
                        "worker: %s failed (%s), delivery %d of %d",
                        p.key,
                        type(exc).__name__,
                        m.metadata.num_delivered,
                        self.settings.max_deliver,
                    )
                    await m.nak(delay=2.0)
                continue
            await self._settle(js, [(m, p)], [outcome])

    async def _settle(
        self,
        js: JetStreamContext,
        good: Sequence[tuple[Msg, PendingDecision]],
        outcomes: Sequence[PendingOutcome],
    ) -> None:
        now = datetime.now(UTC)
        for (m, p), outcome in zip(good, outcomes, strict=True):
            if outcome == "unknown":
                await self._dead(
                    js, m, p, "unknown-consignment", f"no consignment {p.consignment_id} is stored"
                )
                continue
            await m.ack()  # after the commit: a crash before this point means a redelivery
            self.handled += 1
            if self.metrics is not None:
                self.metrics.decisions.labels(outcome).inc()
                if outcome == "decided":
                    self.metrics.latency.observe(max(0.0, (now - p.filed_at).total_seconds()))

    async def _dead(
        self,
        js: JetStreamContext,
        m: Msg,
        p: PendingDecision | None,
        reason: str,
        detail: str,
    ) -> None:
        meta = m.metadata
        letter = DeadLetter(
            type=f"/problems/queue-{reason}",
            title=f"decision not made: {reason.replace('-', ' ')}",
            detail=detail,
            subject=m.subject,
            stream_sequence=int(meta.sequence.stream),
            deliveries=int(meta.num_delivered),
            at=datetime.now(UTC),
            consignment_id=p.consignment_id if p else None,
            version=p.version if p else None,
            message=m.data.decode(errors="replace")[:10_000],
        )
        s = self.settings
        await js.publish(
            s.dead_subject,
            msgspec.json.encode(letter),
            headers={"Nats-Msg-Id": f"dead:{meta.sequence.stream}"},
        )
        await m.ack()  # it is in the dead-letter stream now
        log.error("worker: dead-lettered stream message %s: %s", meta.sequence.stream, detail)
        if self.metrics is not None:
            self.metrics.dead.labels(reason).inc()
