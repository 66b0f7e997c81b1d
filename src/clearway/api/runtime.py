"""What the queued runtime adds to an API process: the embedded relay, queue gauges, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from prometheus_client import CollectorRegistry

from clearway.clearance.pipeline import FilingResult
from clearway.messaging.jetstream import probe
from clearway.messaging.status import QueueCollector
from clearway.wiring.runtime import embedded_relay
from clearway.wiring.services import Services


def lifespan_for(
    services: Services, registry: CollectorRegistry | None
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """Start the embedded relay with the app and stop it with the app (queued runtime only)."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        relay = embedded_relay(services, registry)
        if relay is not None:
            relay.start()
        try:
            yield
        finally:
            if relay is not None:
                await asyncio.to_thread(relay.stop)

    return lifespan


def watch_queue(registry: CollectorRegistry, services: Services) -> None:
    """Outbox depth, stream lag and dead letters on this process's /metrics."""
    if services.settings.queue.queued:
        registry.register(QueueCollector(services.engine, services.settings.queue))


def queue_health(services: Services) -> str | None:
    """'ok' or what is wrong with NATS in the queued runtime; None in the inline one."""
    q = services.settings.queue
    if not q.queued:
        return None
    return asyncio.run(probe(q.nats_url, q))


def awaits_decision(services: Services, r: FilingResult) -> bool:
    """Stored and queued for a worker: the answer is 202 Accepted, the decision comes later.

    Only in the queued runtime: inline, a filing still "filed" is a leg waiting for its
    partners (a CEB order without payment or waybill), which was decided as far as it can be.
    """
    return (
        services.settings.queue.queued
        and r.outcome in ("accepted", "amended", "attached")
        and r.status == "filed"
    )
