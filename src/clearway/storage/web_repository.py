"""Queries and writes behind the web pages and the agency API.

- people who log in with a username and password (argon2id hashes) and their sessions;
- Single Window routing (rules in `agency_routing.yaml`, read at the legal date) and the rule-hit
  index, both kept by an incremental sweep over `consignments.updated_at`;
- work queues of held parcels with filters, sorting and facet counts (indexed, see
  `tables_web.QUEUE_INDEXES`);
- versioned, audited edits of risk profiles, each in force only after a second person approved it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import msgspec
import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Engine,
    Select,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from clearway.kernel.clock import Clock, SystemClock
from clearway.kernel.errors import Conflict, InvalidInput, NotFound, Problem
from clearway.kernel.ids import new_id
from clearway.storage import tables as t
from clearway.storage import tables_web as w
from clearway.storage.engine import writer
from clearway.storage.repository import Operators

ROLES = ("officer", "agency", "analyst", "admin")
SESSION_TTL = timedelta(hours=10)
SWEEP_MARGIN = timedelta(seconds=5)  # re-read rows committed late with an earlier timestamp
QUEUE_STATUSES = ("held", "inspected")
OPEN_STATUSES = ("filed", "referred", "assessed", "decided", "arrived", "held", "inspected")
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- who is logged in
@dataclass(frozen=True, slots=True)
class WebPrincipal:
    operator_id: str
    name: str
    role: str
    agency: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"

    def may(self, *roles: str) -> bool:
        return self.role in roles or self.role == "admin"


# ---------------------------------------------------------------- Single Window routing
@dataclass(frozen=True, slots=True)
class RoutingRule:
    id: str
    agency: str
    reason: str
    valid_from: date
    valid_until: date | None
    prefixes: tuple[str, ...]
    keywords: tuple[str, ...]
    reference: str
    pattern: re.Pattern[str] | None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)

    def match(self, description: str, hs_code: str | None) -> str | None:
        """What matched in one item, or None."""
        code = (hs_code or "").replace(".", "")
        for p in self.prefixes:
            if code.startswith(p):
                return f"HS {p}"
        if self.pattern is not None:
            found = self.pattern.search(description)
            if found:
                return f"keyword '{found.group(0).lower()}'"
        return None


@dataclass(frozen=True)
class Routing:
    agencies: Mapping[str, str]  # code -> name
    rules: tuple[RoutingRule, ...]
    sees_amounts: frozenset[str] = frozenset()  # agencies whose mandate includes amounts
    notify_only: frozenset[str] = frozenset()  # `at_arrival: notify`: seen, not held for
    # `timeout_hours`: an arrival hold the agency has not answered in that time is lifted
    timeouts: Mapping[str, int] = field(default_factory=dict)

    def route(self, legal_date: date, items: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
        """Agency -> (rule id, what matched) for one consignment's items."""
        out: dict[str, Any] = {}
        listed = list(items)
        for rule in self.rules:
            if rule.agency in out or not rule.in_force(legal_date):
                continue
            for description, hs_code in listed:
                matched = rule.match(description, hs_code)
                if matched:
                    out[rule.agency] = (rule.id, matched)
                    break
        return out


class RoutingError(ValueError):
    """The routing file is malformed; the message names the rule."""


def parse_routing(data: Mapping[str, Any], source: str = "agency_routing.yaml") -> Routing:
    agencies = {
        str(k): str((v or {}).get("name", k)) for k, v in (data.get("agencies") or {}).items()
    }
    sees_amounts = frozenset(
        str(k) for k, v in (data.get("agencies") or {}).items() if (v or {}).get("sees_amounts")
    )
    notify_only = frozenset(
        str(k)
        for k, v in (data.get("agencies") or {}).items()
        if (v or {}).get("at_arrival", "hold") == "notify"
    )
    timeouts: dict[str, int] = {}
    for k, v in (data.get("agencies") or {}).items():
        hours = (v or {}).get("timeout_hours")
        if hours is not None:
            if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
                raise RoutingError(f"{source}: agency {k}: timeout_hours is a whole number >= 1")
            timeouts[str(k)] = hours
    rules: list[RoutingRule] = []
    for raw in data.get("rules") or []:
        rid = str(raw.get("id") or "?")
        where = f"{source}: rule {rid}"
        for key in ("id", "agency", "reason", "from", "reference"):
            if key not in raw:
                raise RoutingError(f"{where}: missing {key}")
        if raw["agency"] not in agencies:
            raise RoutingError(f"{where}: unknown agency {raw['agency']!r}")
        prefixes = tuple(str(c) for c in (raw.get("chapters") or [])) + tuple(
            str(h) for h in (raw.get("headings") or [])
        )
        if any(not p.isdigit() for p in prefixes):
            raise RoutingError(f"{where}: chapters and headings are digits")
        keywords = tuple(str(k).lower() for k in (raw.get("keywords") or []))
        if not prefixes and not keywords:
            raise RoutingError(f"{where}: needs chapters, headings or keywords")
        try:
            start = date.fromisoformat(str(raw["from"]))
            until = date.fromisoformat(str(raw["until"])) if raw.get("until") else None
        except ValueError as exc:
            raise RoutingError(f"{where}: bad date: {exc}") from None
        if until is not None and until <= start:
            raise RoutingError(f"{where}: until must be after from")
        pattern = (
            re.compile(r"\b(" + "|".join(re.escape(k) for k in keywords) + r")\b", re.IGNORECASE)
            if keywords
            else None
        )
        rules.append(
            RoutingRule(
                rid,
                str(raw["agency"]),
                str(raw["reason"]),
                start,
                until,
                prefixes,
                keywords,
                str(raw["reference"]),
                pattern,
            )
        )
    return Routing(agencies, tuple(rules), sees_amounts, notify_only, timeouts)


def default_routing() -> Routing:
    raw = resources.files("clearway.storage").joinpath("agency_routing.yaml").read_text("utf-8")
    return parse_routing(yaml.safe_load(raw) or {})


class _Item(msgspec.Struct):
    description: str = ""
    hs_code: str | None = None


class _Doc(msgspec.Struct):
    items: list[_Item] = []


class _Reason(msgspec.Struct):
    source: str = ""
    code: str = ""


class _Decision(msgspec.Struct):
    reasons: list[_Reason] = []


_DOC = msgspec.json.Decoder(_Doc)
_DEC = msgspec.json.Decoder(_Decision)


# ---------------------------------------------------------------- queues
SORTS: dict[str, Any] = {
    "age": lambda c: (c.arrived_at.asc(), c.id.asc()),
    "newest": lambda c: (c.arrived_at.desc(), c.id.desc()),
    "score": lambda c: (c.score.desc().nulls_last(), c.arrived_at.asc(), c.id.asc()),
    "office": lambda c: (c.office.asc(), c.arrived_at.asc(), c.id.asc()),
}


@dataclass(frozen=True, slots=True)
class QueueFilter:
    lane: str | None = None
    office: str | None = None
    reason: str | None = None
    authority: str | None = None
    min_age_hours: int | None = None
    sort: str = "age"
    page: int = 1
    page_size: int = 50


@dataclass(slots=True)
class QueueRow:
    id: str
    transport_document: str
    status: str
    lane: str | None
    office: str | None
    destination_country: str
    score: str | None
    random_sample: bool
    intrinsic_value: str
    currency: str
    arrived_at: datetime | None
    age_hours: float | None
    holds: list[tuple[str, str]] = field(default_factory=list)  # (authority, reason)
    routed_because: str | None = None


def queue_row(r: Any, now: datetime) -> QueueRow:
    """A work-queue line from a consignments row (SQLite's naive times read as UTC)."""
    arrived = _utc(r.arrived_at)
    return QueueRow(
        r.id,
        r.transport_document,
        r.status,
        r.lane,
        r.office,
        r.destination_country,
        r.score,
        bool(r.random_sample),
        r.intrinsic_value,
        r.currency,
        arrived,
        round((now - arrived).total_seconds() / 3600, 1) if arrived else None,
    )


@dataclass(slots=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[tuple[str, int]]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class ProfileVersion:
    profile_id: str
    version: int
    active: bool
    weight: str
    lane: str | None
    referral: str | None
    reason: str
    effective_from: date
    effective_until: date | None
    note: str
    edited_by: str
    edited_at: datetime | None
    status: str = "proposed"  # PROFILE_STATUSES
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None


# A proposed version waits for a second person; approved versions decide from their date.
PROFILE_STATUSES = ("proposed", "approved", "rejected", "withdrawn")


class WebStore:
    def __init__(
        self, engine: Engine, clock: Clock | None = None, routing: Routing | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.routing = routing or default_routing()
        self._writer = writer(engine)
        self._recent: dict[str, Any] = {}  # id -> updated_at indexed within the margin

    # ------------------------------------------------------------ users and sessions
    def create_user(
        self, username: str, password: str, role: str, agency: str | None = None
    ) -> str:
        problems = []
        if not re.fullmatch(r"[A-Za-z0-9._-]{2,100}", username or ""):
            problems.append(Problem("/username", "format", "2-100 letters, digits, . _ -"))
        if len(password or "") < 10:
            problems.append(Problem("/password", "length", "at least 10 characters"))
        if role not in ROLES:
            problems.append(Problem("/role", "enum", f"one of {', '.join(ROLES)}"))
        if role == "agency" and agency not in self.routing.agencies:
            known = ", ".join(self.routing.agencies)
            problems.append(Problem("/agency", "enum", f"an agency user needs one of: {known}"))
        if problems:
            raise InvalidInput(problems, "the user cannot be created")
        operator_id = Operators(self.engine, self.clock).ensure(username, role)
        uid = new_id("usr")
        with self._writer.begin() as conn:
            if conn.execute(
                select(w.web_users.c.id).where(w.web_users.c.username == username)
            ).first():
                raise Conflict(f"user {username} exists")
            conn.execute(
                insert(w.web_users).values(
                    id=uid,
                    username=username,
                    password_hash=_HASHER.hash(password),
                    role=role,
                    agency=agency if role == "agency" else None,
                    operator_id=operator_id,
                    created_at=self.clock.now(),
                )
            )
        return uid

    def verify_password(self, username: str, password: str) -> WebPrincipal | None:
        u = w.web_users.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(u.password_hash, u.operator_id, u.role, u.agency).where(
                    u.username == username, u.disabled_at.is_(None)
                )
            ).first()
        try:
            # Hash even for unknown users so that timing does not tell which names exist.
            _HASHER.verify(row[0] if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        return WebPrincipal(row[1], username, row[2], row[3])

    def open_session(self, who: WebPrincipal) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self._writer.begin() as conn:
            conn.execute(delete(w.web_sessions).where(w.web_sessions.c.expires_at < now))
            conn.execute(
                insert(w.web_sessions).values(
                    token_hash=_sha(token),
                    operator_id=who.operator_id,
                    name=who.name,
                    role=who.role,
                    agency=who.agency,
                    created_at=now,
                    expires_at=now + SESSION_TTL,
                )
            )
        return token

    def session(self, token: str) -> WebPrincipal | None:
        s = w.web_sessions.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.operator_id, s.name, s.role, s.agency, s.expires_at).where(
                    s.token_hash == _sha(token)
                )
            ).first()
        if row is None:
            return None
        expires = _utc(row[4])
        if expires is None or expires <= self.clock.now():
            return None
        return WebPrincipal(row[0], row[1], row[2], row[3])

    def close_session(self, token: str) -> None:
        with self._writer.begin() as conn:
            conn.execute(delete(w.web_sessions).where(w.web_sessions.c.token_hash == _sha(token)))

    # ------------------------------------------------------------ routing and hit index
    def sweep(self) -> int:
        """Route and index every consignment changed since the last sweep; returns how many.

        Rows are found by `updated_at` from the watermark minus a margin (a unit of work may
        commit a little after it read the clock); rows already indexed at the same `updated_at`
        by this process are not read again, so a quiet system costs one index range scan."""
        c = t.consignments.c
        done = 0
        with self._writer.begin() as conn:
            mark = conn.execute(
                select(w.web_sweeps.c.watermark)
                .where(w.web_sweeps.c.name == "index")
                .with_for_update()
            ).first()
            since = _utc(mark[0]) if mark else None
            q = select(c.id, c.updated_at)
            if since is not None:
                q = q.where(c.updated_at >= since - SWEEP_MARGIN)
            changed = conn.execute(q).all()
            todo = [cid for cid, at in changed if self._recent.get(cid) != at]
            for i in range(0, len(todo), 500):
                self._index(conn, todo[i : i + 500])
                done += len(todo[i : i + 500])
            stamps = [_utc(at) for _, at in changed]
            newest = max((s for s in stamps if s is not None), default=since)
            if newest is not None and newest != since:
                conn.execute(
                    update(w.web_sweeps)
                    .where(w.web_sweeps.c.name == "index")
                    .values(watermark=newest)
                )
        if newest is not None:
            floor = newest - SWEEP_MARGIN
            self._recent = {cid: at for cid, at in changed if (_utc(at) or floor) >= floor}
        return done

    def _index(self, conn: Any, ids: list[str]) -> None:
        c = t.consignments.c
        rows = conn.execute(
            select(c.id, c.version, c.legal_date, c.document, c.decision).where(c.id.in_(ids))
        ).all()
        conn.execute(delete(w.web_routes).where(w.web_routes.c.consignment_id.in_(ids)))
        conn.execute(delete(w.web_rule_hits).where(w.web_rule_hits.c.consignment_id.in_(ids)))
        routes: list[dict[str, Any]] = []
        hits: list[dict[str, Any]] = []
        for cid, version, legal, document, decision in rows:
            for agency, (rule, matched) in self._route_document(legal, document).items():
                routes.append(
                    {
                        "consignment_id": cid,
                        "agency": agency,
                        "rule": rule,
                        "matched": matched,
                        "version": version,
                    }
                )
            if decision:
                codes = {r.code for r in _DEC.decode(decision).reasons if r.source == "rule"}
                hits.extend({"consignment_id": cid, "profile_id": p} for p in codes)
        if routes:
            conn.execute(insert(w.web_routes), routes)
        if hits:
            conn.execute(insert(w.web_rule_hits), hits)

    def _route_document(self, legal: Any, document: str) -> dict[str, Any]:
        doc = _DOC.decode(document)
        legal_date = legal if isinstance(legal, date) else date.fromisoformat(str(legal))
        return self.routing.route(legal_date, ((i.description, i.hs_code) for i in doc.items))

    def routes_of(self, consignment_id: str) -> list[tuple[str, str, str]]:
        """(agency, rule, what matched) for one consignment, from its current document."""
        c = t.consignments.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.legal_date, c.document).where(c.id == consignment_id)
            ).first()
        if row is None:
            return []
        found = self._route_document(row[0], row[1])
        return [(a, rule, m) for a, (rule, m) in sorted(found.items())]

    def require_routed(self, consignment_id: str, agency: str) -> None:
        """NotFound unless the consignment is routed to `agency` (an agency sees nothing else)."""
        if agency not in {a for a, _, _ in self.routes_of(consignment_id)}:
            raise NotFound(f"no consignment {consignment_id} routed to {agency}")

    # ------------------------------------------------------------ work queues
    def queue(self, f: QueueFilter) -> QueuePage:
        """Held parcels (status held or inspected) with filters, sorting and facet counts."""
        return self._page(self._filters(f), f, self._facets(), QUEUE_STATUSES)

    def agency_queue(self, agency: str, f: QueueFilter, only_held: bool = False) -> QueuePage:
        """Open parcels routed to `agency`; with `only_held`, those it holds now."""
        c = t.consignments.c
        r = w.web_routes.c
        h = t.holds.c
        conds: list[Any] = [
            c.status.in_(OPEN_STATUSES),
            c.id.in_(select(r.consignment_id).where(r.agency == agency)),
        ]
        if only_held:
            conds.append(
                exists().where(
                    h.consignment_id == c.id, h.lifted_at.is_(None), h.authority == agency
                )
            )
        conds.extend(self._filters(f))
        page = self._page(conds, f, facets={})
        if page.rows:
            with self.engine.connect() as conn:
                why = dict(
                    conn.execute(
                        select(r.consignment_id, r.matched).where(
                            r.agency == agency, r.consignment_id.in_([x.id for x in page.rows])
                        )
                    ).all()
                )
            for row in page.rows:
                row.routed_because = why.get(row.id)
        return page

    def _filters(self, f: QueueFilter) -> list[Any]:
        c = t.consignments.c
        h = t.holds.c
        out: list[Any] = []
        if f.lane:
            out.append(c.lane == f.lane)
        if f.office:
            out.append(c.office == f.office)
        if f.min_age_hours:
            out.append(c.arrived_at <= self.clock.now() - timedelta(hours=f.min_age_hours))
        if f.reason or f.authority:
            sub = [h.consignment_id == c.id, h.lifted_at.is_(None)]
            if f.reason:
                sub.append(h.reason == f.reason)
            if f.authority:
                sub.append(h.authority == f.authority)
            out.append(exists().where(*sub))
        return out

    def _page(
        self,
        conds: list[Any],
        f: QueueFilter,
        facets: dict[str, Any],
        statuses: tuple[str, ...] = (),
    ) -> QueuePage:
        """One page of consignments. With `statuses`, each status is read on its own, in index
        order, up to the page's end, and the pieces are merged: an `IN (...)` on the status
        would make the database sort every matching row to find one page."""
        size = max(1, min(f.page_size, 200))
        page = max(1, f.page)
        q, counted = _queue_select(conds, f, statuses, page, size)
        now = self.clock.now()
        with self.engine.connect() as conn:
            total = int(
                conn.execute(
                    select(func.count()).select_from(t.consignments).where(*counted)
                ).scalar_one()
            )
            rows = [queue_row(r, now) for r in conn.execute(q)]
            if rows:
                h = t.holds.c
                by_id = {row.id: row for row in rows}
                for cid, authority, reason in conn.execute(
                    select(h.consignment_id, h.authority, h.reason)
                    .where(h.consignment_id.in_(list(by_id)), h.lifted_at.is_(None))
                    .order_by(h.placed_at)
                ):
                    by_id[cid].holds.append((authority, reason))
        return QueuePage(rows, total, page, size, facets)

    def _facets(self) -> dict[str, list[tuple[str, int]]]:
        """Counts of held parcels by lane and office, and of open holds by reason."""
        c = t.consignments.c
        h = t.holds.c
        held = c.status.in_(QUEUE_STATUSES)
        out: dict[str, list[tuple[str, int]]] = {}
        with self.engine.connect() as conn:
            for name, col in (("lane", c.lane), ("office", c.office)):
                rows = conn.execute(select(col, func.count()).where(held).group_by(col))
                out[name] = sorted(((str(k or "-"), int(n)) for k, n in rows), key=lambda x: -x[1])
            # Open customs holds by reason, read from the partial index (a join to the parcels
            # costs a lookup per hold; a closed parcel rarely keeps an open hold). Agencies'
            # free-text reasons are theirs, not filter options of the customs queue.
            rows = conn.execute(
                select(h.reason, func.count())
                .where(h.lifted_at.is_(None), h.authority == "customs")
                .group_by(h.reason)
            )
            out["reason"] = sorted(((str(k), int(n)) for k, n in rows), key=lambda x: -x[1])
        return out

    def explain_queue(self, f: QueueFilter, force_index: bool = False) -> list[str]:
        """The database's plan for the queue query (SQLite or PostgreSQL), one line per step.

        `force_index` disables sequential scans on PostgreSQL for the one statement, which shows
        which index serves the query on a table too small for the planner to bother."""
        q, _ = _queue_select(self._filters(f), f, QUEUE_STATUSES, max(1, f.page), 50)
        with self.engine.connect() as conn:
            sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
            if conn.dialect.name == "sqlite":
                return [str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql))]
            with conn.begin():
                if force_index:
                    conn.execute(text("SET LOCAL enable_seqscan = off"))
                return [str(r[0]) for r in conn.execute(text("EXPLAIN " + sql))]

    # ------------------------------------------------------------ analysts
    def live_counts(self) -> dict[str, dict[str, int]]:
        c = t.consignments.c
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for name in ("status", "lane", "destination_country", "payment_status"):
                col = c[name]
                rows = conn.execute(select(col, func.count()).group_by(col))
                out[name] = {str(k or "-"): int(n) for k, n in rows}
        return out

    def profile_stats(self) -> tuple[int, dict[str, tuple[int, int, int]]]:
        """Decided consignments, and per profile: (hits, hits inspected, inspections that found)."""
        c = t.consignments.c
        hcol = w.web_rule_hits.c
        i = t.inspections.c
        with self.engine.connect() as conn:
            decided = int(
                conn.execute(
                    select(func.count()).where(or_(c.lane.is_not(None), c.referral.is_not(None)))
                ).scalar_one()
            )
            hits: dict[str, int] = dict(
                conn.execute(select(hcol.profile_id, func.count()).group_by(hcol.profile_id)).all()
            )
            per = (
                select(
                    i.consignment_id,
                    func.max(case((i.found.is_(True), 1), else_=0)).label("found"),
                )
                .group_by(i.consignment_id)
                .subquery()
            )
            checked = conn.execute(
                select(hcol.profile_id, func.count(), func.sum(per.c.found))
                .join(per, per.c.consignment_id == hcol.consignment_id)
                .group_by(hcol.profile_id)
            ).all()
        inspected = {str(p): (int(n), int(f or 0)) for p, n, f in checked}
        out: dict[str, tuple[int, int, int]] = {}
        for p, n in hits.items():
            seen, found = inspected.get(str(p), (0, 0))
            out[str(p)] = (int(n), seen, found)
        return decided, out

    def profile_versions(self, profile_id: str | None = None) -> list[ProfileVersion]:
        v = w.web_profile_versions.c
        q = select(w.web_profile_versions).order_by(v.profile_id, v.version.desc())
        if profile_id is not None:
            q = q.where(v.profile_id == profile_id)
        with self.engine.connect() as conn:
            return [
                ProfileVersion(
                    r["profile_id"],
                    r["version"],
                    bool(r["active"]),
                    r["weight"],
                    r["lane"],
                    r["referral"],
                    r["reason"],
                    r["effective_from"],
                    r["effective_until"],
                    r["note"],
                    r["edited_by"],
                    _utc(r["edited_at"]),
                    r["status"],
                    r["reviewed_by"],
                    _utc(r["reviewed_at"]),
                    r["review_note"],
                )
                for r in conn.execute(q).mappings()
            ]

    def propose_profile_version(
        self,
        profile_id: str,
        *,
        active: bool,
        weight: str,
        lane: str | None,
        referral: str | None,
        reason: str,
        effective_from: date,
        effective_until: date | None,
        note: str,
        edited_by: str,
    ) -> ProfileVersion:
        """Record a proposed version of a profile (never overwrites: every edit stays readable).
        It decides nothing until a second person approves it (`review_profile_version`); one
        proposal per profile waits at a time."""
        problems = []
        try:
            if not 0 <= float(weight) <= 1000:
                raise ValueError
        except ValueError:
            problems.append(Problem("/weight", "range", "a number of risk points, 0 to 1000"))
        if lane not in (None, "green", "blue", "yellow", "red"):
            problems.append(Problem("/lane", "enum", "green, blue, yellow, red or none"))
        if referral not in (
            None,
            "assessment_complete",
            "request_for_information",
            "request_for_screening",
            "do_not_load",
        ):
            problems.append(Problem("/referral", "enum", "a pre-loading referral or none"))
        if not reason.strip():
            problems.append(Problem("/reason", "required", "say why the profile exists"))
        if not note.strip():
            problems.append(Problem("/note", "required", "say why it is being changed"))
        if effective_until is not None and effective_until <= effective_from:
            problems.append(Problem("/effective_until", "range", "must be after effective_from"))
        if problems:
            raise InvalidInput(problems, "the profile version is not valid")
        v = w.web_profile_versions.c
        with self._writer.begin() as conn:
            # One statement, one snapshot: read apart, a proposal committed between the two
            # reads would be missed as pending yet counted in the next version number. Read
            # together, a concurrent proposal either shows as pending or takes the same version
            # number and loses on the unique constraint below.
            waiting, last = conn.execute(
                select(
                    func.max(case((v.status == "proposed", v.version))), func.max(v.version)
                ).where(v.profile_id == profile_id)
            ).one()
            if waiting is not None:
                raise InvalidInput(
                    [
                        Problem(
                            "/version",
                            "proposal_pending",
                            f"version {waiting} is waiting for review: approve, reject or "
                            "withdraw it first",
                        )
                    ],
                    "the profile version is not valid",
                )
            version = int(last or 0) + 1
            row: dict[str, Any] = {
                "id": new_id("prv"),
                "profile_id": profile_id,
                "version": version,
                "active": active,
                "weight": str(weight),
                "lane": lane,
                "referral": referral,
                "reason": reason.strip(),
                "effective_from": effective_from,
                "effective_until": effective_until,
                "note": note.strip(),
                "edited_by": edited_by,
                "edited_at": self.clock.now(),
                "status": "proposed",
            }
            try:
                conn.execute(insert(w.web_profile_versions).values(**row))
            except IntegrityError as exc:  # another analyst proposed the same version number
                raise InvalidInput(
                    [
                        Problem(
                            "/version",
                            "proposal_pending",
                            "another version was proposed at the same moment: reload the page",
                        )
                    ],
                    "the profile version is not valid",
                ) from exc
        row.pop("id")
        return ProfileVersion(**row)

    def review_profile_version(
        self, profile_id: str, version: int, *, decision: str, by: str, note: str
    ) -> ProfileVersion:
        """Approve or reject a proposed version (someone other than its author), or withdraw
        it (its author only). Approval puts it in force from its effective date."""
        if decision not in ("approved", "rejected", "withdrawn"):
            raise InvalidInput(
                [Problem("/decision", "enum", "approved, rejected or withdrawn")],
                "the review is not valid",
            )
        v = w.web_profile_versions.c
        with self._writer.begin() as conn:
            row = (
                conn.execute(
                    select(v.status, v.edited_by).where(
                        v.profile_id == profile_id, v.version == version
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no version {version} of risk profile {profile_id}")
            problems = []
            if row["status"] != "proposed":
                problems.append(
                    Problem("/version", "not_proposed", f"version {version} is {row['status']}")
                )
            elif decision == "withdrawn" and row["edited_by"] != by:
                problems.append(
                    Problem("/decision", "not_author", "only its author withdraws a proposal")
                )
            elif decision != "withdrawn" and row["edited_by"] == by:
                problems.append(
                    Problem(
                        "/decision",
                        "own_proposal",
                        "a second person reviews a change: you proposed this version",
                    )
                )
            if decision == "rejected" and not note.strip():
                problems.append(Problem("/review_note", "required", "say why it is rejected"))
            if problems:
                raise InvalidInput(problems, "the review is not valid")
            done = conn.execute(
                update(w.web_profile_versions)
                .where(v.profile_id == profile_id, v.version == version, v.status == "proposed")
                .values(
                    status=decision,
                    reviewed_by=by,
                    reviewed_at=self.clock.now(),
                    review_note=note.strip() or None,
                )
            )
            if done.rowcount != 1:  # another reviewer decided it in the meantime
                raise InvalidInput(
                    [Problem("/version", "not_proposed", f"version {version} was just reviewed")],
                    "the review is not valid",
                )
        [out] = [p for p in self.profile_versions(profile_id) if p.version == version]
        return out

    def effective_versions(self, on: date) -> dict[str, ProfileVersion]:
        """Per profile, the approved version in force on `on`: the latest to start by then
        (among versions starting the same day, the last approved)."""
        out: dict[str, ProfileVersion] = {}
        approved = [p for p in self.profile_versions() if p.status == "approved"]
        last = datetime.min.replace(tzinfo=UTC)
        for pv in sorted(
            approved, key=lambda p: (p.effective_from, p.reviewed_at or p.edited_at or last)
        ):
            if pv.effective_from <= on:
                out[pv.profile_id] = pv
        return {k: p for k, p in out.items() if p.effective_until is None or on < p.effective_until}


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _queue_select(
    conds: list[Any], f: QueueFilter, statuses: tuple[str, ...], page: int, size: int
) -> tuple[Select[Any], list[Any]]:
    """The page query and the conditions to count its total (see `WebStore._page`)."""
    c = t.consignments.c
    sort = SORTS.get(f.sort, SORTS["age"])
    cols = (
        c.id,
        c.transport_document,
        c.status,
        c.lane,
        c.office,
        c.destination_country,
        c.score,
        c.random_sample,
        c.intrinsic_value,
        c.currency,
        c.arrived_at,
    )
    q: Select[Any]
    if statuses:
        parts = [
            select(*cols)
            .where(c.status == st, *conds)
            .order_by(*sort(c))
            .limit(page * size)
            .subquery()
            for st in statuses
        ]
        merged = union_all(*(select(*p.c) for p in parts)).subquery()
        q = select(*merged.c).order_by(*sort(merged.c))
        counted = [c.status.in_(statuses), *conds]
    else:
        q = select(*cols).where(*conds).order_by(*sort(c))
        counted = conds
    return q.limit(size).offset((page - 1) * size), counted
