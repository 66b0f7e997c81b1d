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
    # Group commit of single filings (api/group_commit.py): a group waits at most this long for
    # the filer's other concurrent requests, and holds at most `group_max` (1: each alone)
    group_window_ms: float = field(default_factory=lambda: float(_env("GROUP_WINDOW_MS", "10")))
    group_max: int = field(default_factory=lambda: int(_env("GROUP_MAX", "256")))
    # a quote's legal date may be at most this many days after today (revenue law horizon)
    law_horizon_days: int = field(default_factory=lambda: int(_env("LAW_HORIZON_DAYS", "180")))
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
    security: SecuritySettings = field(default_factory=lambda: SecuritySettings())


def _float(name: str, default: str) -> float:
    return float(_env(name, default))


@dataclass(frozen=True)
class SecuritySettings:
    """Abuse limits, transport security and who may read metrics (docs/security.md)."""

    # Requests per minute per API key and per client address (token buckets, per process)
    rate_per_key: float = field(default_factory=lambda: _float("RATE_PER_KEY", "1200"))
    rate_per_address: float = field(default_factory=lambda: _float("RATE_PER_ADDRESS", "2400"))
    # Served over HTTPS (TLS in front of every process): HSTS and Secure cookies always
    https: bool = field(default_factory=lambda: _env("HTTPS", "") in ("1", "true", "yes"))
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs)
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p.strip() for p in _env("TRUSTED_PROXIES", "").split(",") if p.strip()
        )
    )
    # Bearer token for /metrics (besides officer and admin keys); empty: keys only
    metrics_token: str = field(default_factory=lambda: _env("METRICS_TOKEN", ""))
    # Refunds above these amounts (per currency; others: always) wait for an officer's approval
    refund_officer_above: str = field(
        default_factory=lambda: _env(
            "REFUND_OFFICER_ABOVE", "EUR:150,GBP:135,USD:160,CNY:1000,AUD:250,CHF:150"
        )
    )
    # host:port to serve metrics on instead of /metrics (an internal address for the scraper)
    metrics_address: str = field(default_factory=lambda: _env("METRICS_ADDRESS", ""))
    # Web logins: failures before a lock, first lock, longest lock (it doubles in between)
    login_failures: int = field(default_factory=lambda: int(_env("LOGIN_FAILURES", "5")))
    login_lock_seconds: float = field(default_factory=lambda: _float("LOGIN_LOCK_SECONDS", "30"))
    login_lock_max_seconds: float = field(
        default_factory=lambda: _float("LOGIN_LOCK_MAX_SECONDS", "3600")
    )
