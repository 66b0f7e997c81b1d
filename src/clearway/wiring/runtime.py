"""The queued runtime's processes, wired from settings: relays and workers."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from prometheus_client import CollectorRegistry, start_http_server

from clearway.messaging.relay import Relay, RelayMetrics, RelayThread
from clearway.messaging.stoppable import Stoppable
from clearway.messaging.worker import Worker, WorkerMetrics
from clearway.wiring.services import Services

log = logging.getLogger("clearway.queue")


def settle() -> None:
    """Start-up is over: move what it built (packs, tariffs, profiles, the loaded modules) out of
    the garbage collector's reach. Those long-lived objects would otherwise be walked again by
    every collection the hot path triggers (about 5 % of a bulk run's CPU, `bench/bulk.py`).
    Once per process: a later start-up in the same process (a test calling the CLI) adds nothing."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def relay_for(services: Services, registry: CollectorRegistry | None = None) -> Relay:
    return Relay(
        services.engine,
        services.settings.queue,
        metrics=RelayMetrics(registry) if registry is not None else None,
    )


def worker_for(
    services: Services, *, batch: int = 200, registry: CollectorRegistry | None = None
) -> Worker:
    return Worker(
        services.pipeline.decide_pending,
        services.settings.queue,
        batch=batch,
        metrics=WorkerMetrics(registry) if registry is not None else None,
    )


def embedded_relay(services: Services, registry: CollectorRegistry | None) -> RelayThread | None:
    """The relay inside an API process, when the queued runtime asks for one."""
    q = services.settings.queue
    if not (q.queued and q.relay_in_api):
        return None
    return RelayThread(relay_for(services, registry))


def serve_metrics(registry: CollectorRegistry, port: int | None, host: str = "0.0.0.0") -> None:
    if port:
        start_http_server(port, host, registry=registry)
        log.info("metrics on http://%s:%d/metrics", host, port)


def run_until_signalled(runner: Stoppable) -> None:
    """Run a relay or worker until SIGTERM or SIGINT, then let it finish its batch and stop."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        await runner.run()

    asyncio.run(main())
