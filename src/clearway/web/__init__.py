"""Server-rendered pages for officers, agencies, analysts and the public (Jinja2, no CDN).

`mount_web(app)` adds the pages and their static files to the FastAPI app built by
`clearway.api.app.create_app`; they share its services, its database and its API keys.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from clearway.web import agency, analyst, officer, public


def mount_web(app: FastAPI) -> None:
    for module in (public, officer, agency, analyst):
        app.include_router(module.router)
    static = str(resources.files("clearway.web").joinpath("static"))
    app.mount("/static", StaticFiles(directory=static), name="static")


__all__ = ["mount_web"]
