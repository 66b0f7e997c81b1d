"""The queued runtime as real processes, started with the commands of the compose file.

Each service's `command` in compose.yaml is run as `clearway <command>` from this virtual
environment, with ports moved to spare ones; PostgreSQL and NATS are the test's real servers.
Processes can be killed with SIGKILL and started again, like a container that crashed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text

from tests.scale.conftest import queued_env, spare_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
CLEARWAY = str(Path(sys.executable).parent / "clearway")
ACKNOWLEDGED = ("accepted", "duplicate", "amended", "attached")


def compose_command(service: str) -> list[str]:
    spec = yaml.safe_load(COMPOSE.read_text())["services"][service]
    return [str(part) for part in spec["command"]]


def compose_env(service: str) -> dict[str, str]:
    """The service's settings from the compose file, less the addresses of its servers."""
    spec = yaml.safe_load(COMPOSE.read_text())["services"][service]
    env = {str(k): str(v) for k, v in (spec.get("environment") or {}).items()}
    for own in ("CLEARWAY_DATABASE_URL", "CLEARWAY_NATS_URL"):
        env.pop(own, None)
    return env


def _with_option(cmd: list[str], option: str, value: str) -> list[str]:
    """The command with `option`'s value replaced (the compose file's ports are the image's)."""
    out = list(cmd)
    if option in out:
        out[out.index(option) + 1] = value
    return out


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = logs / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [CLEARWAY, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def kill9(self) -> None:
        assert self.popen is not None and self.popen.poll() is None, f"{self.name} is not running"
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class Api(Proc):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.args[self.args.index('--port') + 1]}"

    def wait_healthy(self, timeout: float = 300.0) -> None:
        """Until /healthz answers 200: the API serves (NATS may still be starting)."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            assert self.popen is not None and self.popen.poll() is None, self.tail()
            try:
                r = httpx.get(f"{self.url}/healthz", timeout=5)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not serving within {timeout} s ({last}):\n{self.tail()}")


class Cluster:
    def __init__(self, logs: Path, pg_url: str, nats_url: str, name: str, **env: str) -> None:
        self.logs = logs
        self.pg_url = pg_url
        self.env = queued_env(
            pg_url, nats_url, name, CLEARWAY_QUEUE_ACK_WAIT="3", **{**compose_env("api"), **env}
        )
        self.procs: list[Proc] = []
        self.engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))

    def migrate(self) -> None:
        done = subprocess.run(
            [CLEARWAY, *compose_command("migrate")], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr

    def api(self, name: str, **env: str) -> Api:
        cmd = _with_option(compose_command("api"), "--port", str(spare_port()))
        cmd = _with_option(cmd, "--host", "127.0.0.1")
        proc = Api(name, cmd, {**self.env, **env}, self.logs)
        self.procs.append(proc)
        return proc

    def service(self, service: str, name: str) -> Proc:
        cmd = _with_option(compose_command(service), "--metrics-port", str(spare_port()))
        proc = Proc(name, cmd, self.env, self.logs)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.procs:
            p.stop()
        self.engine.dispose()

    def key(self, operator: str) -> str:
        from clearway.storage.repository import Operators

        return Operators(self.engine).create_key(operator, "platform")

    def sql(self, query: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(query), params))

    def one(self, query: str, **params: Any) -> Any:
        return self.sql(query, **params)[0][0]

    def wait_drained(self, timeout: float = 120.0) -> None:
        """Every stored consignment decided and the outbox empty."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self.one(
                "SELECT (SELECT count(*) FROM consignments WHERE status = 'filed') "
                "+ (SELECT count(*) FROM outbox)"
            )
            if left == 0:
                return
            time.sleep(0.25)
        logs = "\n".join(f"--- {p.name}\n{p.tail()}" for p in self.procs)
        raise AssertionError(f"backlog not drained within {timeout} s ({left} left)\n{logs}")

    def assert_exactly_once(self, acknowledged: set[str]) -> None:
        """Every acknowledged filing stored once and decided once; nothing stored is undecided."""
        stored = dict(self.sql("SELECT filer_reference, count(*) FROM filings GROUP BY 1"))
        assert acknowledged <= set(stored), f"lost: {sorted(acknowledged - set(stored))[:10]}"
        assert {r for r, n in stored.items() if n != 1} == set(), "a filing stored twice"
        total = self.one("SELECT count(*) FROM consignments")
        assert total == len(stored)  # one parcel per filing in these loads
        assert self.one("SELECT count(*) FROM consignments WHERE status <> 'decided'") == 0
        for kind in ("assess", "decide"):
            per = self.sql(
                "SELECT c.id, count(e.id) FROM consignments c LEFT JOIN events e "
                "ON e.consignment_id = c.id AND e.kind = :k GROUP BY c.id HAVING count(e.id) <> 1",
                k=kind,
            )
            assert per == [], f"{kind} events not exactly one for {per[:5]}"
        notices = self.sql(
            "SELECT c.id, count(n.id) FROM consignments c LEFT JOIN notices n "
            "ON n.consignment_id = c.id AND n.kind = 'decision' GROUP BY c.id "
            "HAVING count(n.id) <> 1"
        )
        assert notices == [], f"decision notices not exactly one for {notices[:5]}"


class Load:
    """Filers sending filings in batches to several API processes, as a real client would:
    a request that fails (its API died) is sent again to another API, same filer references.
    """

    def __init__(
        self,
        apis: list[Api],
        key: str,
        docs: list[dict[str, Any]],
        *,
        batch: int = 20,
        threads: int = 3,
        pause: float = 0.0,
    ) -> None:
        self.apis = apis
        self.auth = {"Authorization": f"Bearer {key}"}
        self.chunks = [docs[i : i + batch] for i in range(0, len(docs), batch)]
        self.threads = threads
        self.pause = pause
        self.acknowledged: set[str] = set()
        self.outcomes: Counter[str] = Counter()
        self.latencies: list[tuple[float, int]] = []  # (request seconds, filings in it)
        self.failures = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._next = 0
        self._workers = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]
        self.total = len(docs)

    def start(self) -> Load:
        for t in self._workers:
            t.start()
        return self

    def join(self, timeout: float = 180.0) -> None:
        for t in self._workers:
            t.join(timeout)
        assert not self.errors, self.errors[:3]

    @property
    def share_done(self) -> float:
        return len(self.acknowledged) / self.total

    def wait_share(self, share: float, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.share_done < share:
            assert time.monotonic() < deadline, f"load stuck at {self.share_done:.0%}"
            assert not self.errors, self.errors[:3]
            time.sleep(0.05)

    def _take(self) -> list[dict[str, Any]] | None:
        with self._lock:
            if self._next >= len(self.chunks):
                return None
            chunk = self.chunks[self._next]
            self._next += 1
            return chunk

    def _run(self, n: int) -> None:
        client = httpx.Client(timeout=30)
        rnd = random.Random(n)
        try:
            while (chunk := self._take()) is not None:
                self._send(client, rnd, chunk)
                if self.pause:
                    time.sleep(self.pause)
        except Exception as exc:
            self.errors.append(repr(exc))
        finally:
            client.close()

    def _send(self, client: httpx.Client, rnd: random.Random, chunk: list[dict[str, Any]]) -> None:
        for attempt in range(200):
            api = self.apis[rnd.randrange(len(self.apis))]
            sent = time.perf_counter()
            try:
                r = client.post(f"{api.url}/v1/filings/batch", json=chunk, headers=self.auth)
            except httpx.TransportError:
                self.failures += 1  # that API is down: another one takes it
                time.sleep(0.05 * min(attempt + 1, 10))
                continue
            if r.status_code >= 500 or r.status_code == 409:
                self.failures += 1
                time.sleep(0.1)
                continue
            assert r.status_code in (200, 202), r.text
            with self._lock:
                self.latencies.append((time.perf_counter() - sent, len(chunk)))
                for res in r.json()["results"]:
                    self.outcomes[res["outcome"]] += 1
                    if res["outcome"] in ACKNOWLEDGED:
                        self.acknowledged.add(res["filer_reference"])
            return
        raise AssertionError("a batch was refused 200 times")


def during(seconds: float, check: Callable[[], None], every: float = 0.5) -> None:
    """Call `check` repeatedly for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        check()
        time.sleep(every)


__all__ = ["Api", "Cluster", "Load", "Proc", "compose_command", "during", "os"]
