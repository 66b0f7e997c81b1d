"""Analyst pages: live counts, and risk-profile management (hit counts and rates; versioned,
audited edits with effective dates, stored beside the shipped YAML profiles; an edit is a
proposal until a second analyst approves it, and the risk selector applies approved versions
from their effective date)."""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from clearway.kernel.errors import InvalidInput, NotFound, Problem
from clearway.risk.profiles import Profile, default_profiles
from clearway.statistics import report
from clearway.statistics.dashboard import summary
from clearway.web import core, profile_review
from clearway.web import lane as lanes

router = APIRouter(route_class=core.PageRoute, include_in_schema=False)
ProfilePath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


@router.get("/analyst/")
async def dashboard(request: Request) -> Response:
    core.need(request, "analyst", "officer")
    counts = await run_in_threadpool(core.web_store(request).live_counts)
    total = sum(counts.get("status", {}).values())
    return core.render(request, "analyst.html", {"counts": counts, "total": total})


@router.get("/analyst/statistics")
async def statistics(request: Request) -> Response:
    """The statistics dashboard: figures from the configured Parquet snapshot (DuckDB)."""
    core.need(request, "analyst", "officer")
    settings = core.services(request).settings
    figures: dict[str, Any] | None = None
    if settings.snapshot_dir and FsPath(settings.snapshot_dir).is_dir():
        figures = await run_in_threadpool(summary, FsPath(settings.snapshot_dir))
    return core.render(
        request,
        "analyst_statistics.html",
        {
            "figures": figures,
            "snapshot": settings.snapshot_dir,
            "report": bool(settings.report_dir and FsPath(settings.report_dir).is_dir()),
        },
    )


@router.get("/analyst/report/{name:path}")
async def report_file(request: Request, name: str) -> Response:
    """The HTML report and its charts, for logged-in analysts and officers only."""
    core.need(request, "analyst", "officer")
    folder = core.services(request).settings.report_dir
    if not folder:
        raise NotFound("no report configured (CLEARWAY_REPORT_DIR)")
    root = FsPath(folder).resolve()
    name = name or "index.html"
    if name == "index.html":  # the page in the reader's language when the report has it
        own = report.LANGUAGES.get(core.language(request), report.LANGUAGES["en"])[1]
        name = own if (root / own).is_file() else name
    target = (root / name).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFound(f"no report file {name!r}")
    response: Response
    if target.suffix == ".html":  # the report's navigation leads back to the pages
        gettext = core.gettext_for(request)
        back = (
            f'<li><a href="/analyst/statistics">← {escape(gettext("Statistics"))}</a></li>\n'
            f'<li><a href="/analyst/">{escape(gettext("Analysis"))}</a></li>'
        )
        html = await run_in_threadpool(target.read_text, "utf-8")
        response = HTMLResponse(html.replace(REPORT_LINKS, back, 1))
    else:
        response = FileResponse(target)
    # the report and its charts run nothing and load only their own files
    response.headers["Content-Security-Policy"] = REPORT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


REPORT_LINKS = "<!-- site links -->"
REPORT_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _profiles() -> dict[str, Profile]:
    return {p.id: p for p in default_profiles().profiles}


@router.get("/analyst/profiles")
async def profiles(request: Request) -> Response:
    core.need(request, "analyst")
    store = core.web_store(request)
    await run_in_threadpool(store.sweep)
    decided, stats = await run_in_threadpool(store.profile_stats)
    today = core.services(request).clock.now().date()
    edited = await run_in_threadpool(store.effective_versions, today)
    waiting = {
        v.profile_id: v
        for v in await run_in_threadpool(store.profile_versions)
        if v.status == "proposed"
    }
    return core.render(
        request,
        "profiles.html",
        {
            "profiles": list(_profiles().values()),
            "decided": decided,
            "stats": stats,
            "edited": edited,
            "waiting": waiting,
            "today": today,
        },
    )


def _profile_ctx(request: Request, pid: str) -> dict[str, Any]:
    profile = _profiles().get(pid)
    if profile is None:
        raise NotFound(f"no risk profile {pid}")
    store = core.web_store(request)
    today = core.services(request).clock.now().date()
    in_force = store.effective_versions(today).get(pid)
    now = profile_review.current(profile, in_force, today)
    versions = store.profile_versions(pid)
    pending = next((v for v in versions if v.status == "proposed"), None)
    return {
        "p": profile,
        "versions": versions,
        "today": today,
        "current": now,
        "form": dict(now.values),
        "review": None,
        "pending": pending,
        "pending_diff": profile_review.diff(now, profile_review.fields_of(pending))
        if pending
        else [],
    }


@router.get("/analyst/profiles/{profile_id}")
async def profile(request: Request, profile_id: ProfilePath, done: str | None = None) -> Response:
    who = core.need(request, "analyst")
    ctx = await run_in_threadpool(_profile_ctx, request, profile_id)
    ctx["done"] = done if done in DONE else None
    ctx["me"] = who.actor
    return core.render(request, "profile.html", ctx)


DONE = ("proposed", "approved", "rejected", "withdrawn")


def _date(fields: dict[str, str], name: str, problems: list[Problem]) -> date | None:
    raw = fields.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(f"/{name}", "date", "a date YYYY-MM-DD"))
        return None


@router.post("/analyst/profiles/{profile_id}")
async def edit(request: Request, profile_id: ProfilePath) -> Response:
    """A change is previewed first (diff against today's version, parcels of the last days that
    would change lane, a warning when it starts in the past), then saved as a new version."""
    who = core.need(request, "analyst")
    fields = await core.form_of(request)
    ctx = await run_in_threadpool(_profile_ctx, request, profile_id)
    ctx["me"] = who.actor
    svc = core.services(request)
    today = ctx["today"]
    problems: list[Problem] = []
    start = _date(fields, "effective_from", problems)
    until = _date(fields, "effective_until", problems)
    if start is None and not problems:
        problems.append(Problem("/effective_from", "required", "the date the version starts"))
    changes = profile_review.diff(ctx["current"], fields)
    if not problems and not changes and until is None:
        problems.append(
            Problem("/weight", "unchanged", "this version is the one in force: nothing changes")
        )
    backdated = start is not None and start < today
    preview = fields.get("step") == "preview"
    if backdated and not preview and fields.get("confirm_backdate") != "yes":
        problems.append(
            Problem(
                "/effective_from",
                "backdated",
                "the version starts before today: decisions already taken stay as they were; "
                "confirm to save it",
            )
        )
    ctx.update({"form": profile_review.as_form(fields), "done": None})
    if preview or problems:
        store = core.web_store(request)
        await run_in_threadpool(store.sweep)
        effect = await run_in_threadpool(
            profile_review.impact,
            store.engine,
            profile_id,
            fields,
            lanes.policy_of(svc.selector),
            svc.clock.now(),
        )
        ctx["review"] = {"diff": changes, "impact": effect, "backdated": backdated}
    try:
        if problems:
            raise InvalidInput(problems, "the profile version is not valid")
        if preview:
            return core.render(request, "profile.html", ctx)
        assert start is not None
        await run_in_threadpool(
            lambda: core.web_store(request).propose_profile_version(
                profile_id,
                active=fields.get("active") == "yes",
                weight=fields.get("weight", "").strip(),
                lane=fields.get("lane") or None,
                referral=fields.get("referral") or None,
                reason=fields.get("reason", ""),
                effective_from=start,
                effective_until=until,
                note=fields.get("note", ""),
                edited_by=who.actor,
            )
        )
    except InvalidInput as exc:
        ctx.update({"problems": exc.problems, "error": exc.detail})
        return core.render(request, "profile.html", ctx, 422)
    # a proposal decides nothing: it waits for a second analyst's approval
    return core.redirect(request, f"/analyst/profiles/{profile_id}?done=proposed")


@router.post("/analyst/profiles/{profile_id}/versions/{version}")
async def review(
    request: Request, profile_id: ProfilePath, version: Annotated[int, Path(ge=1, le=100_000)]
) -> Response:
    """A second analyst approves or rejects a proposed version (recorded with both names); its
    author may withdraw it. An approved version decides from its effective date at once."""
    who = core.need(request, "analyst")
    fields = await core.form_of(request)
    if _profiles().get(profile_id) is None:
        raise NotFound(f"no risk profile {profile_id}")
    decision = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}.get(
        fields.get("decision", ""), ""
    )
    store = core.web_store(request)
    try:
        await run_in_threadpool(
            lambda: store.review_profile_version(
                profile_id,
                version,
                decision=decision,
                by=who.actor,
                note=fields.get("review_note", ""),
            )
        )
    except InvalidInput as exc:
        ctx = await run_in_threadpool(_profile_ctx, request, profile_id)
        ctx.update(
            {
                "me": who.actor,
                "done": None,
                "problems": exc.problems,
                "error": exc.detail,
                "review_form": {"review_note": fields.get("review_note", "")},
            }
        )
        return core.render(request, "profile.html", ctx, 422)
    edits = core.services(request).profile_overrides
    if decision == "approved" and edits is not None:  # this process decides with it at once
        edits.invalidate()
    return core.redirect(request, f"/analyst/profiles/{profile_id}?done={decision}")
