"""Lifecycle events: every transition, with its time and actor. The audit trail and the source
of time-release measurement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class Event(msgspec.Struct, omit_defaults=True):
    consignment_id: str
    kind: str  # the action, e.g. "decide", "arrive", "release", "hold"
    at: datetime
    actor: str  # "system", "operator:<name>", "officer:<name>", "agency:<code>"
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] = {}
