"""Abuse and transport security: rate limits, login lockout, headers, docs and metrics."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from clearway.api.guard import TokenBuckets
from clearway.kernel.clock import FixedClock
from clearway.storage.lockout import lock_seconds
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.security.conftest import app_with, key


def test_signed_in_answers_are_never_cached_and_never_framed(
    client: TestClient, services: Services
) -> None:
    public = client.get("/healthz")
    assert public.headers["X-Frame-Options"] == "DENY"
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    assert "Strict-Transport-Security" not in public.headers  # plain HTTP, no proxy configured
    signed = client.get("/v1/notices", headers=key(services, "Mercato", "platform"))
    assert signed.status_code == 200 and signed.headers["Cache-Control"] == "no-store"
    # a forged X-Forwarded-Proto from an unconfigured peer changes nothing
    forged = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def test_behind_a_configured_proxy_https_brings_hsts_and_secure_cookies(
    sqlite_url: str, clock: FixedClock
) -> None:
    c, svc = app_with(sqlite_url, clock, trusted_proxies=("testclient",))
    with c:
        r = c.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        page = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "secure" in page.headers["set-cookie"].lower()
        plain = c.get("/login")
        assert "Strict-Transport-Security" not in plain.headers
    svc.close()


def test_rate_limit_per_key_then_per_address(sqlite_url: str, clock: FixedClock) -> None:
    # 60 a minute per key: a burst of 6; 120 a minute per address: a burst of 12
    c, svc = app_with(sqlite_url, clock, rate_per_key=60, rate_per_address=120)
    for buckets in c.app.state.rate_limits:  # type: ignore[attr-defined]
        buckets.clock = lambda: 0.0  # time stands still: no refill during the test
    with c:
        first = key(svc, "Mercato", "platform")
        answers = [c.get("/v1/notices", headers=first) for _ in range(7)]
        assert [a.status_code for a in answers[:6]] == [200] * 6
        limited = answers[6]
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["Retry-After"]) >= 1
        # another key from the same address still goes through, until the address is spent
        second = key(svc, "Bazaar", "platform")
        others = [c.get("/v1/notices", headers=second).status_code for _ in range(6)]
        assert others[:5] == [200] * 5 and others[5] == 429
        # guessing keys costs the address too: unknown keys are counted like any other
        assert c.get("/v1/notices", headers={"Authorization": "Bearer cw_x_y"}).status_code == 429
    svc.close()


def test_token_buckets_refill_over_time() -> None:
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])  # one a second, burst 6
    assert all(buckets.take("k") == 0 for _ in range(6))
    assert buckets.take("k") > 0
    now[0] += 1.0
    assert buckets.take("k") == 0


def test_login_lockout_backs_off_and_ignores_even_the_right_password(
    services: Services, client: TestClient, clock: FixedClock
) -> None:
    web = WebStore(services.engine, services.clock)
    web.create_user("ana", "correct horse battery", "officer")

    def attempt(password: str) -> object:
        client.get("/login")
        return client.post(
            "/login",
            data={"username": "ana", "password": password, "csrf": client.cookies["cw_csrf"]},
            follow_redirects=False,
        )

    codes = [attempt("wrong").status_code for _ in range(4)]  # type: ignore[attr-defined]
    assert codes == [401] * 4
    fifth = attempt("wrong")
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "30"  # type: ignore[attr-defined]
    locked = attempt("correct horse battery")
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert "cw_session" not in locked.headers.get("set-cookie", "")  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=31))
    sixth = attempt("wrong")  # the lock doubles
    assert sixth.status_code == 429 and sixth.headers["Retry-After"] == "60"  # type: ignore[attr-defined]
    clock.advance(timedelta(seconds=61))
    ok = attempt("correct horse battery")
    assert ok.status_code == 303 and "cw_session" in ok.headers["set-cookie"]  # type: ignore[attr-defined]
    # success clears the name: four more failures are allowed again before a lock
    assert [attempt("wrong").status_code for _ in range(4)] == [401] * 4  # type: ignore[attr-defined]


def test_lock_lengths_double_up_to_the_longest() -> None:
    assert [lock_seconds(n, 5, 30, 3600) for n in (4, 5, 6, 7, 12, 40)] == [
        0,
        30,
        60,
        120,
        3600,
        3600,
    ]


def test_swagger_ui_is_served_from_the_package(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    assert "cdn" not in page.text.lower()
    for asset in sources:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


def test_metrics_need_an_officer_key_or_the_token(sqlite_url: str, clock: FixedClock) -> None:
    c, svc = app_with(sqlite_url, clock, metrics_token="s3cret-scrape-token")
    with c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers=key(svc, "Mercato", "platform")).status_code == 401
        assert c.get("/metrics", headers=key(svc, "Eve", "analyst")).status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        officer = c.get("/metrics", headers=key(svc, "Border", "officer"))
        assert officer.status_code == 200 and "clearway_http_requests" in officer.text
        token = c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
        assert token.status_code == 200
    svc.close()


def test_metrics_on_their_own_address_are_not_on_the_api(
    sqlite_url: str, clock: FixedClock
) -> None:
    c, svc = app_with(sqlite_url, clock, metrics_address="127.0.0.1:9464")
    with c:
        assert c.get("/metrics", headers=key(svc, "Border", "officer")).status_code == 404
    svc.close()
