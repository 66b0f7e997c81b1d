"""The FastAPI application: routes, problem+json error mapping, metrics, limits."""

from __future__ import annotations

import time
from decimal import DecimalException
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway import __version__
from clearway.api import (
    guard,
    ops,
    payment_claims,
    routes_accounts,
    routes_agencies,
    routes_consignments,
    routes_filings,
    routes_hs,
    routes_messages,
    routes_quotes,
    routes_returns,
    routes_unmatched,
)
from clearway.api.group_commit import GroupCommit
from clearway.api.openapi import components, responses
from clearway.api.problems import PROBLEM_TYPES, problem_response
from clearway.api.runtime import lifespan_for, queue_health, watch_queue
from clearway.api.schemas import Health
from clearway.kernel.errors import ClearwayError, Problem, Unauthorized
from clearway.web import mount_web
from clearway.wiring.rates import rates_health
from clearway.wiring.services import Services


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="Clearway",
        version=__version__,
        summary="Customs clearance engine for cross-border e-commerce",
        description=(
            "Advance electronic data in, explained decisions out. Authenticate with "
            "`Authorization: Bearer <API key>`. Every error is an RFC 9457 problem document "
            "(`application/problem+json`) listing each problem with its field path."
        ),
        docs_url=None,  # served from the swagger-ui-py package's files, not a CDN (api/ops.py)
        redoc_url=None,
    )
    app.state.services = services
    app.state.key_cache = {}
    _metrics(app)
    # single filings arriving together share a pipeline batch and a commit (api/group_commit.py)
    app.state.group_commit = GroupCommit(
        lambda filer, batch: services.pipeline.process(filer, batch),
        services.store,
        window=services.settings.group_window_ms / 1000,
        max_group=services.settings.group_max,
        measure=app.state.measure_group,
    )
    app.router.lifespan_context = lifespan_for(services, app.state.metrics_registry)
    services.classifier.warm()  # the HS classifier loads in the background (once per process)
    guard.install(app, services.settings.security)  # outermost: limits and headers for all
    _errors(app)
    app.include_router(routes_filings.router)
    app.include_router(routes_consignments.router)
    app.include_router(routes_quotes.router)
    app.include_router(routes_hs.router)
    app.include_router(routes_accounts.router)
    app.include_router(routes_returns.router)
    app.include_router(routes_messages.router)
    app.include_router(routes_agencies.router)
    app.include_router(payment_claims.router)
    app.include_router(routes_unmatched.router)
    mount_web(app)  # officer, agency, analyst and public pages (clearway.web)
    _ops_routes(app)
    _openapi(app)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ClearwayError)
    async def clearway_error(request: Request, exc: ClearwayError) -> Response:
        problems = exc.problems
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return problem_response(
            exc.status, exc.problem_type, exc.detail, problems, request.url.path, headers
        )

    @app.exception_handler(DataError)
    async def storage_refused(request: Request, exc: DataError) -> Response:
        # Validation bounds every field; this is the net under it, never a 500.
        return problem_response(
            422,
            "invalid-input",
            "a value is too long or out of range to be stored",
            (),
            request.url.path,
        )

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> Response:
        # Bodies are depth-checked before decoding (kernel/strict_json); this is the net under it.
        return problem_response(
            400, "malformed", "the input is nested too deeply", (), request.url.path
        )

    @app.exception_handler(DecimalException)
    async def number_out_of_range(request: Request, exc: DecimalException) -> Response:
        # Every number is bounded when read (kernel/decimals); this is the net under it.
        return problem_response(
            422, "invalid-input", "a number is out of range", (), request.url.path
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            Problem(
                "/" + "/".join(str(x) for x in e.get("loc", ())),
                e.get("type", "invalid"),
                e.get("msg", "invalid"),
            )
            for e in exc.errors()
        ]
        return problem_response(
            422, "invalid-input", "the request is not valid", problems, request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "error")
        return problem_response(exc.status_code, slug, str(exc.detail), (), request.url.path)


def _metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    watch_queue(registry, app.state.services)
    app.state.filings_counter = Counter(
        "clearway_filings", "Filings processed, by outcome", ["outcome"], registry=registry
    )
    app.state.decisions_counter = Counter(
        "clearway_decisions",
        "Decisions made, by lane or referral",
        ["outcome"],
        registry=registry,
    )
    groups = Counter(
        "clearway_filing_groups", "Groups of single filings filed in one batch", registry=registry
    )
    grouped = Counter(
        "clearway_filing_group_filings", "Single filings filed in groups", registry=registry
    )

    def measure_group(size: int) -> None:
        groups.inc()
        grouped.inc(size)

    app.state.measure_group = measure_group
    requests = Counter(
        "clearway_http_requests",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "clearway_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )

    app.add_middleware(Measure, requests=requests, latency=latency)


class Measure:
    """Requests by route and status, and their latency, as plain ASGI middleware."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the server answers when the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # latency to the answer's head, as measured before (the body may stream on)
                name = getattr(scope.get("route"), "path", "unmatched")
                self.latency.labels(name).observe(time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            name = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], name, str(status)).inc()


def _ops_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"], responses=responses({200: "Health"}))
    def healthz() -> Response:
        svc: Services = app.state.services
        try:
            with svc.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            db = "ok"
        except Exception as exc:
            db = f"error: {type(exc).__name__}"
        # NATS JetStream, in the queued runtime. Without it the API still accepts filings (the
        # outbox keeps them), so it stays in service: 200 and "degraded", 503 only without the
        # database.
        queue = queue_health(svc)
        status = 200 if db == "ok" else 503
        fine = db == "ok" and queue in (None, "ok")
        newest, stale = rates_health(svc.assessor, svc.clock.now().date())
        health = Health("ok" if fine else "degraded", db, __version__, queue, newest, stale)
        body = msgspec.json.encode(health)
        return Response(body, status, media_type="application/json")

    if not app.state.services.settings.security.metrics_address:
        ops.mount_metrics(app)  # else `clearway serve` serves them on their own address
    ops.mount_docs(app)

    @app.get(
        "/problems/{slug}",
        tags=["operations"],
        response_class=PlainTextResponse,
        include_in_schema=False,
    )
    def problem_doc(slug: str) -> Response:
        if slug not in PROBLEM_TYPES:
            return problem_response(404, "not-found", f"no problem type {slug}")
        return PlainTextResponse(PROBLEM_TYPES[slug])


def _openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        comps = schema.setdefault("components", {})
        comps.setdefault("schemas", {}).update(components())
        comps["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        guard.document_limits(schema)
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
