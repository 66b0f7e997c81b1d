"""Public pages, no login: the single access point (Principle VII) — what is owed and why, the
rules per destination, and what is restricted — plus language choice and login/logout."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.domain.filing import decode_filing
from clearway.domain.validation import check_filing, decode_problems
from clearway.kernel.codes import countries as country_names
from clearway.kernel.errors import NotFound, Problem
from clearway.revenue.quote import quote_document
from clearway.storage.web_repository import SESSION_TTL, WebPrincipal
from clearway.web import core, i18n, law, restricted

router = APIRouter(route_class=core.PageRoute, include_in_schema=False)
MAX_ITEMS = 5
CATEGORIES = ("sale_of_goods", "gift", "commercial_sample", "returned_goods", "documents", "other")
MODELS = ("consumer", "vendor", "intermediary")
# A quote is about goods and money: parties and transport document may be placeholders.
_NOT_NEEDED = ("/consignor", "/consignee", "/transport_document", "/filer_reference")


def _safe_next(target: str | None, default: str) -> str:
    """Only same-site paths, so a login link cannot send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


@router.get("/")
def home(request: Request) -> Response:
    svc = core.services(request)
    by_pack: dict[str, list[str]] = {}
    for country, (pack, _cur) in law.countries(law.assessor_of(svc.assessor)).items():
        by_pack.setdefault(f"{pack.code} — {pack.name}", []).append(country)
    return core.render(request, "home.html", {"by_pack": by_pack, "names": country_names()})


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
    return core.render(
        request,
        "jurisdiction.html",
        {
            "country": code,
            "name": country_names()[code].name if code in country_names() else code,
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


def _estimate_document(params: dict[str, str]) -> dict[str, Any]:
    dest = params.get("destination", "").upper()
    items = []
    for i in range(MAX_ITEMS):
        desc = params.get(f"description_{i}", "").strip()
        value = params.get(f"value_{i}", "").strip()
        if not desc and not value:
            continue
        item: dict[str, Any] = {"description": desc or "-", "value": value or "0"}
        hs = params.get(f"hs_code_{i}", "").replace(".", "").replace(" ", "")
        if hs:
            item["hs_code"] = hs
        qty = params.get(f"quantity_{i}", "").strip() or "1"
        item["quantity"] = int(qty) if qty.isascii() and qty.isdigit() else qty
        origin = params.get(f"origin_{i}", "").strip().upper()
        if origin:
            item["origin_country"] = origin
        items.append(item)
    doc: dict[str, Any] = {
        "filer_reference": "estimate",
        "transport_document": "ESTIMATE",
        "data_set": "reduced",
        "destination_country": dest,
        "currency": params.get("currency", "").upper() or "EUR",
        "category": params.get("category") or "sale_of_goods",
        "mode": params.get("mode") or "post",
        "items": items,
        "consignee": {"country": dest},
    }
    model = params.get("collection") or "consumer"
    collection: dict[str, Any] = {"model": model}
    if params.get("registration_number", "").strip():
        collection["registration_number"] = params["registration_number"].strip()
    doc["collection"] = collection
    for key in ("transport_cost", "insurance_cost"):
        if params.get(key, "").strip():
            doc[key] = params[key].strip()
    if params.get("legal_date", "").strip():
        doc["legal_date"] = params["legal_date"].strip()
    if items and items[0].get("origin_country"):
        doc["dispatch_country"] = items[0]["origin_country"]
    return doc


@router.get("/estimate")
async def estimate(request: Request) -> Response:
    """Duty and tax estimator: the same calculator as `POST /v1/quotes`, explained line by line."""
    svc = core.services(request)
    assessor = law.assessor_of(svc.assessor)
    params = {k: v[:200] for k, v in request.query_params.items()}
    known = law.countries(assessor)
    ctx: dict[str, Any] = {
        "params": params,
        "countries": known,
        "names": country_names(),
        "categories": CATEGORIES,
        "models": MODELS,
        "max_items": MAX_ITEMS,
        "quote": None,
        "problems": [],
    }
    if "destination" not in params:
        return core.render(request, "estimate.html", ctx)
    doc = _estimate_document(params)
    problems: list[Problem] = []
    if not doc["items"]:
        problems.append(Problem("/items", "required", "describe at least one item with its value"))
    else:
        body = msgspec.json.encode(doc)
        try:
            filing = decode_filing(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            problems = decode_problems(body) or [Problem("/", "invalid", "the form is not valid")]
        else:
            problems = [
                p
                for p in check_filing(filing, served=assessor.jurisdictions())
                if p.severity == "error" and not p.path.startswith(_NOT_NEEDED)
            ]
            if not problems:
                ctx["quote"] = await run_in_threadpool(
                    quote_document, filing, None, assessor, svc.clock
                )
                pack, _ = known[filing.destination_country]
                day = date.fromisoformat(str(ctx["quote"]["legal_date"]))
                ctx["sections"] = law.parameters(pack, filing.destination_country, day)
    if problems:
        ctx["problems"] = problems
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


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await core.form_of(request)
    store = core.web_store(request)
    svc = core.services(request)
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
        problems = [
            Problem(
                "/login", "failed", "unknown user, wrong password or key, or a role without pages"
            )
        ]
        return core.render(
            request, "login.html", {"next": fields.get("next", ""), "problems": problems}, 401
        )
    token = await run_in_threadpool(store.open_session, who)
    response = core.redirect(request, _safe_next(fields.get("next"), _HOME_OF[who.role]))
    response.set_cookie(
        core.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
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
