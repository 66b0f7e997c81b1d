"""Queries and writes behind the web pages and the agency API.

- people who log in with a username and password (argon2id hashes) and their sessions;
- Single Window routing (rules in `agency_routing.yaml`, read at the legal date) and the rule-hit
  index, both kept by an incremental sweep over `consignments.updated_at`;
- work queues of held parcels with filters, sorting and facet counts (indexed, see
  `tables_web.QUEUE_INDEXES`);
- versioned, audited edits of risk profiles (`storage/profile_versions.py`, mixed in here).

Single Window routing rules are parsed in `storage/agency_routing.py`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Engine,
    Select,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    union_all,
    update,
)

from clearway.kernel.clock import Clock, SystemClock
from clearway.kernel.errors import Conflict, InvalidInput, NotFound, Problem
from clearway.kernel.ids import new_id
from clearway.storage import tables as t
from clearway.storage import tables_web as w
from clearway.storage.agency_routing import Routing, default_routing
from clearway.storage.engine import writer
from clearway.storage.profile_versions import ProfileVersions
from clearway.storage.repository import Operators, aware

ROLES = ("officer", "agency", "analyst", "admin")
SESSION_TTL = timedelta(hours=10)
SWEEP_MARGIN = timedelta(seconds=5)  # re-read rows committed late with an earlier timestamp
QUEUE_STATUSES = ("held", "inspected")
OPEN_STATUSES = ("filed", "referred", "assessed", "decided", "arrived", "held", "inspected")
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


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
    arrived = aware(r.arrived_at)
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


class WebStore(ProfileVersions):
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
        expires = aware(row[4])
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
            since = aware(mark[0]) if mark else None
            q = select(c.id, c.updated_at)
            if since is not None:
                q = q.where(c.updated_at >= since - SWEEP_MARGIN)
            changed = conn.execute(q).all()
            todo = [cid for cid, at in changed if self._recent.get(cid) != at]
            for i in range(0, len(todo), 500):
                self._index(conn, todo[i : i + 500])
                done += len(todo[i : i + 500])
            stamps = [aware(at) for _, at in changed]
            newest = max((s for s in stamps if s is not None), default=since)
            if newest is not None and newest != since:
                conn.execute(
                    update(w.web_sweeps)
                    .where(w.web_sweeps.c.name == "index")
                    .values(watermark=newest)
                )
        if newest is not None:
            floor = newest - SWEEP_MARGIN
            self._recent = {cid: at for cid, at in changed if (aware(at) or floor) >= floor}
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
