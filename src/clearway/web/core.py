"""What every page shares: templates, language, the logged-in person, CSRF, error pages.

Pages raise the same typed errors as the API; `PageRoute` turns them into an HTML page with the
same status (a 4xx, never a 500) and sends people who are not logged in to the login page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from clearway.kernel.errors import ClearwayError, InvalidInput, Problem
from clearway.risk.profiles import default_profiles
from clearway.storage.lockout import LoginLockout
from clearway.storage.web_repository import WebPrincipal, WebStore
from clearway.web import formats, i18n, labels
from clearway.wiring.services import Services

SESSION_COOKIE = "cw_session"
CSRF_COOKIE = "cw_csrf"
LANG_COOKIE = "lang"
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

ENV = Environment(
    loader=PackageLoader("clearway.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginRequired(Exception):
    """No valid session: the person is sent to the login page."""


class NotAllowed(ClearwayError):
    problem_type = "forbidden"
    status = 403


class BadForm(ClearwayError):
    """A form came back without its CSRF token (or with a stale one)."""

    problem_type = "forbidden"
    status = 403


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def web_store(request: Request) -> WebStore:
    store: WebStore | None = getattr(request.app.state, "web_store", None)
    if store is None:
        svc = services(request)
        store = WebStore(svc.engine, svc.clock)
        request.app.state.web_store = store
    return store


def login_lockout(request: Request) -> LoginLockout:
    lockout: LoginLockout | None = getattr(request.app.state, "login_lockout", None)
    if lockout is None:
        svc = services(request)
        sec = svc.settings.security
        lockout = LoginLockout(
            svc.engine,
            svc.clock,
            threshold=sec.login_failures,
            first=sec.login_lock_seconds,
            longest=sec.login_lock_max_seconds,
        )
        request.app.state.login_lockout = lockout
    return lockout


def language(request: Request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def gettext_for(request: Request) -> Callable[[str], str]:
    return i18n.translations(language(request)).gettext


def current(request: Request) -> WebPrincipal | None:
    cached = request.scope.get("clearway.principal", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    token = request.cookies.get(SESSION_COOKIE)
    who = web_store(request).session(token) if token else None
    request.scope["clearway.principal"] = who
    return who


def need(request: Request, *roles: str) -> WebPrincipal:
    """The logged-in person if their role is one of `roles` (admin always passes)."""
    who = current(request)
    if who is None:
        raise LoginRequired()
    if not who.may(*roles):
        raise NotAllowed(f"this page needs one of the roles: {', '.join(roles)}")
    return who


def csrf_token(request: Request) -> str:
    token = request.cookies.get(CSRF_COOKIE) or request.scope.get("clearway.csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.scope["clearway.csrf"] = token
    return str(token)


async def form_of(request: Request) -> dict[str, str]:
    """The submitted form as text fields, after checking its CSRF token (double submit)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = fields.pop("csrf", "")
    if not cookie or not sent or not secrets.compare_digest(cookie, sent):
        raise BadForm("the form is missing its security token; reload the page and try again")
    return fields


def render(
    request: Request, template: str, context: Mapping[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    lang = language(request)
    gettext = i18n.translations(lang).gettext
    ctx = {
        "request": request,
        "_": gettext,
        "label": labels.labeller(gettext),
        "hold_reason": lambda reason: labels.hold_reason(gettext, reason),
        "reason_text": lambda r: labels.reason_text(gettext, r, lang, _shipped_reasons()),
        "profile_reason": lambda p: labels.profile_reason(gettext, p.id, p.reason),
        "problem_text": lambda p: labels.problem_text(gettext, p, lang),
        "detail_text": lambda d: labels.detail_text(gettext, str(d), lang),
        "owner": lambda name: _owner(request, gettext, str(name)),
        "pack_name": lambda pack: labels.data_text(gettext, "pack", pack.code, pack.name),
        "fmt": formats.for_lang(lang),
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "who": current(request),
        "csrf": csrf_token(request),
        "path": request.url.path,
        **(context or {}),
    }
    if isinstance(ctx.get("agencies"), Mapping):  # agencies' names in the page's language
        ctx["agencies"] = {
            code: labels.data_text(gettext, "agency", code, name)
            for code, name in ctx["agencies"].items()
        }
    if ctx.get("agency") and ctx.get("agency_name"):
        ctx["agency_name"] = labels.data_text(gettext, "agency", ctx["agency"], ctx["agency_name"])
    html = ENV.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status)
    finish(request, response)
    return response


def _owner(request: Request, gettext: Callable[[str], str], name: str) -> str:
    """Who stops or clears goods: a profile's owning unit, or an agency by its name."""
    codes = {n: c for c, n in web_store(request).routing.agencies.items()}
    if name in codes:
        return labels.data_text(gettext, "agency", codes[name], name)
    return labels.data_text(gettext, "owner", name, name)


@cache
def _shipped_reasons() -> dict[str, str]:
    return {p.id: p.reason for p in default_profiles().profiles}


def finish(request: Request, response: Response) -> None:
    """Security headers, and the CSRF cookie on first visit."""
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            csrf_token(request),
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )


def secure(request: Request) -> bool:
    """Cookies get `Secure` when the site is served over HTTPS, directly or behind a configured
    proxy (the API's guard decides and records it on the request)."""
    return bool(request.scope.get("clearway.https")) or request.url.scheme == "https"


def redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    finish(request, response)
    return response


def _problems(exc: ClearwayError) -> list[Problem]:
    return exc.problems if isinstance(exc, InvalidInput) else []


class PageRoute(APIRoute):
    """Runs a page; typed errors become an HTML error page with their status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = quote(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
                return redirect(request, f"/login?next={target}")
            except ClearwayError as exc:
                return render(
                    request,
                    "error.html",
                    {"status": exc.status, "detail": exc.detail, "problems": _problems(exc)},
                    exc.status,
                )
            except RequestValidationError as exc:
                problems = [
                    Problem(
                        "/".join(str(x) for x in e.get("loc", ())), "invalid", str(e.get("msg"))
                    )
                    for e in exc.errors()
                ]
                return render(
                    request,
                    "error.html",
                    {"status": 422, "detail": "the request is not valid", "problems": problems},
                    422,
                )

        return page
