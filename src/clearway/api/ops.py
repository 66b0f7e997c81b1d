"""Operations endpoints that need protecting: the API docs page and the metrics.

- `/docs` is Swagger UI served from the `swagger-ui-py` package's files under `/docs/assets`:
  nothing loads from a CDN, so the page works offline and a third party cannot change it.
- `/metrics` answers only an officer or admin key, or the `CLEARWAY_METRICS_TOKEN` bearer
  token. `clearway serve --metrics-port` serves the metrics on a separate address instead (for a
  scraper on an internal network); `/metrics` on the API is then not served at all.
"""

from __future__ import annotations

import secrets
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from clearway.api.deps import principal
from clearway.api.openapi import responses
from clearway.api.problems import problem_response
from clearway.kernel.errors import ClearwayError
from clearway.wiring.services import Services

DOCS_ASSETS = "/docs/assets"
METRICS_ROLES = ("officer", "admin")


def swagger_ui_files() -> str:
    """The folder of Swagger UI's built files inside the installed package."""
    return str(resources.files("swagger_ui").joinpath("static"))


def mount_docs(app: FastAPI) -> None:
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_files()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def _metrics_allowed(request: Request, svc: Services) -> bool:
    token = svc.settings.security.metrics_token
    scheme, _, sent = request.headers.get("authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and secrets.compare_digest(sent.strip(), token):
        return True
    try:
        who = principal(request, svc)
    except ClearwayError:
        return False
    return who.role in METRICS_ROLES


def mount_metrics(app: FastAPI) -> None:
    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        responses=responses({}, 401),
    )
    def metrics(request: Request) -> Response:
        """Prometheus metrics: an officer or admin key, or the metrics token."""
        svc: Services = app.state.services
        if not _metrics_allowed(request, svc):
            return problem_response(
                401,
                "unauthorized",
                "metrics need an officer or admin key, or the metrics token",
                (),
                "/metrics",
                {"WWW-Authenticate": "Bearer"},
            )
        return Response(generate_latest(app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
