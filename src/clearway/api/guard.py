"""Abuse limits and transport security for every response (API and pages).

- Rate limits: a token bucket per API key (its public prefix) and per client address; a caller
  over either gets 429 with `Retry-After`. Buckets live in the process (N processes: N × the
  limit), which stops floods and guessing without a round trip to a shared store.
- The client address and scheme come from `X-Forwarded-For` / `X-Forwarded-Proto` only when the
  direct peer is a configured proxy (`CLEARWAY_TRUSTED_PROXIES`); otherwise anyone could claim
  any address or HTTPS.
- Headers: `X-Frame-Options: DENY` and `nosniff` everywhere; HSTS when served over HTTPS;
  `Cache-Control: no-store` on every signed-in answer (API key or session), so a shared cache
  or the browser's history never keeps another person's data.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway.api.problems import problem_response
from clearway.wiring.settings import SecuritySettings

SESSION_COOKIE = "cw_session"  # the web session cookie (clearway.web.core uses the same name)
HSTS = "max-age=63072000; includeSubDomains"
MAX_BUCKETS = 50_000  # bounded memory under a flood of distinct keys or addresses


class TokenBuckets:
    """`rate` requests per minute per name, with a burst of a tenth of a minute's worth."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1.0, per_minute / 10.0)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, name: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(name, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[name] = (tokens, now)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
            return wait


def _trusted(peer: str | None, proxies: tuple[str, ...]) -> bool:
    if not peer or not proxies:
        return False
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return peer in proxies
    for p in proxies:
        try:
            if addr in ipaddress.ip_network(p, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: Request, settings: SecuritySettings) -> str:
    """The caller's address: the peer, or the last untrusted hop a trusted proxy reports."""
    peer = request.client.host if request.client else None
    if _trusted(peer, settings.trusted_proxies):
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _trusted(hop, settings.trusted_proxies):
                return hop
    return peer or "unknown"


def is_https(request: Request, settings: SecuritySettings) -> bool:
    """Served over HTTPS: configured so, the connection itself, or a trusted proxy saying so."""
    if settings.https or request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and _trusted(peer, settings.trusted_proxies)


def key_name(request: Request) -> str | None:
    """The public part of a bearer key (`cw_<prefix>_…`), never the secret."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        return None
    parts = key.strip().split("_", 2)
    return f"key:{parts[1]}" if len(parts) == 3 and parts[0] == "cw" else "key:malformed"


def signed_in(request: Request) -> bool:
    return bool(request.headers.get("authorization") or request.cookies.get(SESSION_COOKIE))


def install(app: FastAPI, settings: SecuritySettings) -> None:
    """Add the rate limits and security headers to every route of `app`."""
    per_key = TokenBuckets(settings.rate_per_key)
    per_address = TokenBuckets(settings.rate_per_address)
    app.state.rate_limits = (per_key, per_address)
    app.add_middleware(Guard, settings=settings, per_key=per_key, per_address=per_address)


class Guard:
    """The limits and headers as plain ASGI middleware (no task or stream per request)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: SecuritySettings,
        per_key: TokenBuckets,
        per_address: TokenBuckets,
    ) -> None:
        self.app = app
        self.settings = settings
        self.per_key = per_key
        self.per_address = per_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        address = client_address(request, self.settings)
        https = is_https(request, self.settings)
        scope["clearway.client"] = address
        scope["clearway.https"] = https
        private = signed_in(request)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if private:
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        key = key_name(request)
        wait = self.per_address.take(f"addr:{address}")
        if key is not None:
            wait = max(wait, self.per_key.take(key))
        if wait <= 0:
            await self.app(scope, receive, with_headers)
            return
        refusal = problem_response(
            429,
            "too-many-requests",
            f"rate limit reached; retry after {math.ceil(wait)} s",
            (),
            request.url.path,
            {"Retry-After": str(math.ceil(wait))},
        )
        await refusal(scope, receive, with_headers)


def document_limits(schema: dict[str, Any]) -> None:
    """Every operation may answer 429 with `Retry-After`: say so in the OpenAPI document."""
    too_many = {
        "description": "Too many requests from this key or address; wait `Retry-After` seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
        },
    }
    for item in schema.get("paths", {}).values():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete") and isinstance(op, dict):
                op.setdefault("responses", {}).setdefault("429", too_many)
