"""Typed settings from the environment (CLEARWAY_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from clearway.messaging.settings import QueueSettings

DEFAULT_DATABASE_URL = "sqlite:///var/clearway.sqlite"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CLEARWAY_{name}", default)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", DEFAULT_DATABASE_URL))
    # Selection policy: random control sampling rate and inspection budget (share of traffic)
    sample_rate: float = field(default_factory=lambda: float(_env("SAMPLE_RATE", "0.01")))
    budget: float = field(default_factory=lambda: float(_env("BUDGET", "0.05")))
    seed: int = field(default_factory=lambda: int(_env("SEED", "0")))
    max_body_bytes: int = field(
        default_factory=lambda: int(_env("MAX_BODY_BYTES", str(16 * 1024 * 1024)))
    )
    max_batch: int = 1000
    # Folder of a trained targeting model (`clearway risk retrain --out DIR`); rules only if unset
    risk_model: str | None = field(default_factory=lambda: os.environ.get("CLEARWAY_RISK_MODEL"))
    # Parquet snapshot (`clearway export`) and HTML report (`clearway report`) the analyst
    # dashboard shows; statistics never read the live database
    snapshot_dir: str | None = field(
        default_factory=lambda: os.environ.get("CLEARWAY_SNAPSHOT_DIR")
    )
    report_dir: str | None = field(default_factory=lambda: os.environ.get("CLEARWAY_REPORT_DIR"))
    # runtime shape (CLEARWAY_RUNTIME=inline|queued), NATS and the queue: messaging/settings.py
    queue: QueueSettings = field(default_factory=QueueSettings)
