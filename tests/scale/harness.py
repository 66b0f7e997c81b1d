"""In-process pieces of the queued runtime for tests: services, a worker thread, waiting."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from clearway.kernel.codes import make_s10
from clearway.messaging.settings import QueueSettings
from clearway.messaging.stoppable import Stoppable
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing


def queued_services(pg_url: str, nats_url: str, name: str, **queue: Any) -> Services:
    settings = Settings(
        database_url=pg_url,
        sample_rate=0.0,
        queue=QueueSettings(runtime="queued", nats_url=nats_url, name=name, **queue),
    )
    return build(settings)


class Background:
    """A relay or worker on its own thread and event loop."""

    def __init__(self, runner: Stoppable) -> None:
        self.runner = runner
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            asyncio.run(self.runner.run())
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self.runner.stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the runner did not stop"
        if self.error is not None:
            raise self.error


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def scalar(services: Services, sql: str, **params: Any) -> Any:
    with services.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def filing(n: int, ref: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid filing about its own parcel (number n)."""
    return make_filing(
        filer_reference=ref or f"R-{n}",
        transport_document=make_s10("LX", 40_000_000 + n, "CN"),
        order={"id": f"O-{n}", "total": "27.40"},
        payment={
            "id": f"P-{n}",
            "amount": "27.40",
            "currency": "EUR",
            "payer_name": "Anna Müller",
        },
        **overrides,
    )
