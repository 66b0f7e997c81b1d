"""The container image and compose file (no Docker engine runs here: what can be checked is).

The fault tests start each compose service's `command` as `clearway <command>`; this checks the
rest of the file: the services the scaled runtime needs, their settings, and that the image's
entry point is that same `clearway` command.
"""

from __future__ import annotations

import re

import yaml

from clearway.messaging.settings import QueueSettings
from tests.scale.cluster import COMPOSE, ROOT


def test_compose_has_the_scaled_runtime_services_wired_together() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"postgres", "nats", "migrate", "api", "relay", "worker"} <= set(services)
    assert "--jetstream" in services["nats"]["command"]
    for name in ("migrate", "api", "relay", "worker"):
        env = services[name]["environment"]
        assert env["CLEARWAY_RUNTIME"] == "queued"
        assert env["CLEARWAY_DATABASE_URL"].startswith("postgresql://")
        assert env["CLEARWAY_NATS_URL"] == "nats://nats:4222"
        QueueSettings(runtime=env["CLEARWAY_RUNTIME"])  # a valid setting
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for name in ("api", "relay", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["relay"]["deploy"]["replicas"] == 2  # a leader and a standby


def test_the_image_runs_the_clearway_command_from_the_project_sources() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["clearway"\]$', text, re.M)
    for source in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for part in source.split():
            assert (ROOT / part).exists(), f"Dockerfile copies {part}, which does not exist"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "src" not in ignored and ".venv" in ignored
