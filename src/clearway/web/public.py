"""Public pages, no login: the single access point (Principle VII) — what is owed and why, the
rules per destination, and what is restricted — plus language choice and login/logout."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.domain.filing import decode_filing
from clearway.domain.structural import decode_problems
from clearway.domain.validation import check_quote
from clearway.kernel.codes import normalise_hs
from clearway.kernel.errors import InvalidInput, NotFound, Problem
from clearway.revenue.quote import quote_document
from clearway.revenue.suggested import SuggestedCode, explain, suggest_missing_codes
from clearway.storage.web_repository import SESSION_TTL, WebPrincipal
from clearway.web import core, estimator, formats, guidance, i18n, labels, law, restricted

router = APIRouter(route_class=core.PageRoute, include_in_schema=False)


def _safe_next(target: str | None, default: str) -> str:
    """Only same-site paths, so a login link cannot send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


@router.get("/")
def home(request: Request) -> Response:
    svc = core.services(request)
    gettext = core.gettext_for(request)
    by_pack: dict[str, list[str]] = {}
    for country, (pack, _cur) in law.countries(law.assessor_of(svc.assessor)).items():
        by_pack.setdefault(
            f"{pack.code} — {labels.data_text(gettext, 'pack', pack.code, pack.name)}", []
        ).append(country)
    fmt = formats.for_lang(core.language(request))
    named = {pack: [code for code, _ in fmt.countries(codes)] for pack, codes in by_pack.items()}
    return core.render(request, "home.html", {"by_pack": named})


@router.get("/lang/{code}")
def set_language(
    request: Request, code: Annotated[str, Path(max_length=5)], next: str | None = None
) -> Response:
    if code not in i18n.LANGUAGES:
        raise NotFound(f"no language {code}")
    response = core.redirect(request, _safe_next(next, "/"))
    response.set_cookie(core.LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/jurisdictions/{country}")
def jurisdiction(
    request: Request,
    country: Annotated[str, Path(min_length=2, max_length=2)],
    on: date | None = None,
) -> Response:
    svc = core.services(request)
    assessor = law.assessor_of(svc.assessor)
    known = law.countries(assessor)
    code = country.upper()
    if code not in known:
        raise NotFound(f"no jurisdiction pack covers {code}")
    pack, currency = known[code]
    day = on or svc.clock.now().date()
    routing = core.web_store(request).routing
    lang = core.language(request)
    fmt = formats.for_lang(lang)
    gettext = i18n.translations(lang).gettext
    guide = guidance.build(pack, code, day)
    return core.render(
        request,
        "jurisdiction.html",
        {
            "country": code,
            "name": fmt.country(code),
            "shoppers": [(guidance.sentence(p, gettext, fmt), p) for p in guide.shoppers],
            "sellers": [(guidance.sentence(p, gettext, fmt), p) for p in guide.sellers],
            "pack": pack,
            "currency": currency,
            "day": day,
            "sections": law.parameters(pack, code, day),
            "restrictions": restricted.catalogue(routing),
        },
    )


@router.get("/restricted")
def restricted_goods(request: Request, q: Annotated[str, Query(max_length=100)] = "") -> Response:
    routing = core.web_store(request).routing
    found = restricted.lookup(q, routing) if q.strip() else []
    return core.render(
        request,
        "restricted.html",
        {"q": q, "found": found, "searched": bool(q.strip()), "all": restricted.catalogue(routing)},
    )


@router.get("/estimate")
async def estimate(request: Request) -> Response:
    """Duty and tax estimator: the same calculator as `POST /v1/quotes`, explained line by line,
    with one answer at the top (what you pay, to whom, when) and what it leaves out."""
    svc = core.services(request)
    assessor = law.assessor_of(svc.assessor)
    fmt = formats.for_lang(core.language(request))
    params = {k: v[:200] for k, v in request.query_params.items()}
    known = law.countries(assessor)
    ctx: dict[str, Any] = {
        "params": params,
        "countries": fmt.countries(list(known)),
        "categories": labels.CATEGORIES,
        "models": labels.COLLECTION_MODELS,
        "max_items": estimator.MAX_ITEMS,
        "quote": None,
        "errors": {},
    }
    if "destination" not in params:
        return core.render(request, "estimate.html", ctx)
    form = estimator.read_form(params, fmt)
    errors = list(form.errors)
    if not errors:
        body = msgspec.json.encode(form.document)
        try:
            filing = decode_filing(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            problems = decode_problems(body) or [Problem("/", "invalid", "the form is not valid")]
        else:
            # items without a code (or re-picked from the suggestions) get the suggested code
            chosen = {
                n: normalise_hs(params.get(f"hs_code_{i}", ""))
                for n, i in enumerate(form.rows)
                if params.get(f"suggest_{i}") and params.get(f"hs_code_{i}", "").strip()
            }
            suggested: list[SuggestedCode] = []
            if chosen or any(not it.hs_code for it in filing.items):
                classifier = await run_in_threadpool(svc.classifier.get)
                filing, suggested = await run_in_threadpool(
                    suggest_missing_codes, filing, classifier, chosen
                )
            problems = check_quote(filing, served=assessor.jurisdictions())
            quote = None
            if not problems:
                try:
                    quote = await run_in_threadpool(
                        quote_document, filing, None, assessor, svc.clock
                    )
                except InvalidInput as exc:  # a legal date no pack answers for
                    problems = exc.problems
            if quote is not None:
                quote = explain(quote, suggested)
                pack, _ = known[filing.destination_country]
                day = date.fromisoformat(str(quote["legal_date"]))
                ctx.update(
                    rows=form.rows,
                    quote=quote,
                    verdict=estimator.verdict(quote),
                    sections=law.parameters(pack, filing.destination_country, day),
                )
        errors += estimator.place(problems, form.rows)
    if errors:
        ctx["errors"] = {e.field: e for e in reversed(errors)}  # the first problem of a field
        ctx["error_list"] = errors
        return core.render(request, "estimate.html", ctx, status=422)
    return core.render(request, "estimate.html", ctx)


# ---------------------------------------------------------------- login and logout
_HOME_OF = {
    "officer": "/officer/",
    "agency": "/agency/",
    "analyst": "/analyst/",
    "admin": "/officer/",
}


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return core.render(request, "login.html", {"next": _safe_next(next, "")})


def _login_subjects(request: Request, fields: dict[str, str]) -> tuple[str, list[str]]:
    """Who is trying (the user name or the key's public prefix) and every subject a failure
    counts against (that one and the client address)."""
    address = str(request.scope.get("clearway.client") or getattr(request.client, "host", "?"))
    key = fields.get("api_key", "").strip()
    if key:
        parts = key.split("_", 2)
        who = f"key:{parts[1] if len(parts) == 3 else 'malformed'}"
    else:
        who = f"user:{fields.get('username', '').strip().lower()[:150]}"
    return who, [who, f"addr:{address}"]


def _locked_out(request: Request, fields: dict[str, str], wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    problems = [
        Problem("/login", "locked", f"too many failed logins: try again in {seconds} seconds")
    ]
    response = core.render(
        request, "login.html", {"next": fields.get("next", ""), "problems": problems}, 429
    )
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await core.form_of(request)
    store = core.web_store(request)
    svc = core.services(request)
    lockout = core.login_lockout(request)
    subject, subjects = _login_subjects(request, fields)
    wait = await run_in_threadpool(lockout.retry_after, subjects)
    if wait > 0:  # locked: the password is not even checked
        return _locked_out(request, fields, wait)
    who: WebPrincipal | None = None
    key = fields.get("api_key", "").strip()
    if key:
        p = await run_in_threadpool(svc.operators.authenticate, key)
        if p is not None and p.role in _HOME_OF:
            who = WebPrincipal(
                p.operator_id, p.operator, p.role, p.operator if p.role == "agency" else None
            )
    else:
        username = fields.get("username", "").strip()
        password = fields.get("password", "")
        if username and password:
            who = await run_in_threadpool(store.verify_password, username, password)
    if who is None:
        wait = await run_in_threadpool(lockout.failed, subjects)
        if wait > 0:
            return _locked_out(request, fields, wait)
        problems = [
            Problem(
                "/login", "failed", "unknown user, wrong password or key, or a role without pages"
            )
        ]
        return core.render(
            request, "login.html", {"next": fields.get("next", ""), "problems": problems}, 401
        )
    await run_in_threadpool(lockout.succeeded, [subject])
    token = await run_in_threadpool(store.open_session, who)
    response = core.redirect(request, _safe_next(fields.get("next"), _HOME_OF[who.role]))
    response.set_cookie(
        core.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=core.secure(request),
        max_age=int(SESSION_TTL.total_seconds()),
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await core.form_of(request)
    token = request.cookies.get(core.SESSION_COOKIE)
    if token:
        await run_in_threadpool(core.web_store(request).close_session, token)
    response = core.redirect(request, "/")
    response.delete_cookie(core.SESSION_COOKIE)
    return response
