"""What the relay and the worker share: an event loop that can be asked to stop from any thread."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod

from nats.aio.client import Client

from clearway.messaging.jetstream import connect


class Stoppable(ABC):
    """Base of the relay and the worker: each implements `run`."""

    def __init__(self) -> None:
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @abstractmethod
    async def run(self) -> None:
        """Serve until `stop` is called."""

    def stop(self) -> None:
        """Ask the loop to finish (thread-safe; before `run` starts too)."""
        self._stopping = True
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    @property
    def stopped(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _begin(self) -> bool:
        """Bind to the running loop; False when asked to stop already."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stopping:
            self._stop.set()
        return not self._stopping

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early when asked to stop."""
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _connect(self, url: str, role: str) -> Client | None:
        """Connect to NATS, however long it takes; None when asked to stop meanwhile."""
        assert self._stop is not None
        connecting = asyncio.ensure_future(connect(url, role))
        waiting = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait({connecting, waiting}, return_when="FIRST_COMPLETED")
        waiting.cancel()
        if connecting in done:
            return connecting.result()
        connecting.cancel()
        return None
