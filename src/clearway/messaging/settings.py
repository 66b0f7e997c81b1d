"""Settings of the runtime shape, from the environment (CLEARWAY_RUNTIME, CLEARWAY_NATS_URL, …).

`inline` (the default) runs the whole pipeline inside the request. `queued` stores each accepted
filing with an outbox row and answers 202; a relay publishes the outbox to NATS JetStream and
worker processes assess and decide.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

RUNTIMES = ("inline", "queued")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CLEARWAY_{name}", default)


def _flag(name: str, default: bool) -> bool:
    return _env(name, "true" if default else "false").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class QueueSettings:
    runtime: str = field(default_factory=lambda: _env("RUNTIME", "inline"))
    nats_url: str = field(default_factory=lambda: _env("NATS_URL", "nats://127.0.0.1:4222"))
    # JetStream stream name; subjects are `<name>.decide` and `<name>.dead` (dead letters)
    name: str = field(default_factory=lambda: _env("QUEUE_NAME", "clearway"))
    # the relay runs inside each API process (one leader at a time, by advisory lock)
    relay_in_api: bool = field(default_factory=lambda: _flag("RELAY_IN_API", True))
    # at most this many messages wait in the stream; the rest wait in the outbox, where the relay
    # picks them fairly across filers (so one filer's burst cannot starve the others)
    window: int = field(default_factory=lambda: int(_env("QUEUE_WINDOW", "2000")))
    # a message not acknowledged within this time is delivered again (after a worker died)
    ack_wait: float = field(default_factory=lambda: float(_env("QUEUE_ACK_WAIT", "30")))
    # deliveries of a message whose processing keeps failing before it is dead-lettered
    max_deliver: int = field(default_factory=lambda: int(_env("QUEUE_MAX_DELIVER", "5")))

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ValueError(
                f"CLEARWAY_RUNTIME must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}"
            )
        if not _NAME.match(self.name):
            raise ValueError(
                "CLEARWAY_QUEUE_NAME must be 1-64 letters, digits, '-' or '_' "
                f"(a JetStream stream name), not {self.name!r}"
            )
        if self.window < 1 or self.ack_wait <= 0 or self.max_deliver < 1:
            raise ValueError(
                "CLEARWAY_QUEUE_WINDOW and CLEARWAY_QUEUE_MAX_DELIVER must be at least 1 and "
                "CLEARWAY_QUEUE_ACK_WAIT above 0"
            )

    @property
    def queued(self) -> bool:
        return self.runtime == "queued"

    @property
    def decide_subject(self) -> str:
        return f"{self.name}.decide"

    @property
    def dead_subject(self) -> str:
        return f"{self.name}.dead"

    @property
    def dead_stream(self) -> str:
        return f"{self.name}_dead"

    @property
    def consumer(self) -> str:
        return f"{self.name}-workers"
