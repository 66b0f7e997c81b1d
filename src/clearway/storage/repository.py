"""SQL implementation of the clearance Store, plus the queries the API and pages need."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearway.clearance.ports import (
    ChangeSet,
    ConsignmentHead,
    Hold,
    StaleWrite,
    StoredFiling,
)
from clearway.domain.assessment import Assessment
from clearway.domain.consignment import Consignment
from clearway.domain.decision import Decision
from clearway.domain.events import Event
from clearway.domain.filing import FilingDocument, encode
from clearway.kernel.clock import Clock, SystemClock
from clearway.kernel.errors import Conflict, NotFound
from clearway.kernel.ids import new_id
from clearway.matching.merge import Leg
from clearway.storage import audit
from clearway.storage import tables as t
from clearway.storage.bulk import bulk_insert, insert_values
from clearway.storage.engine import writer
from clearway.storage.outbox import write_outbox
from clearway.storage.tables_web import web_sessions

_DOC = msgspec.json.Decoder(FilingDocument)
_DECISION = msgspec.json.Decoder(Decision)
_ASSESSMENT = msgspec.json.Decoder(Assessment)
CHUNK = 500  # bound IN (...) lists for both SQLite and PostgreSQL


def _chunks(seq: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(seq), CHUNK):
        yield seq[i : i + CHUNK]


def _party_key(name: str | None, postcode: str | None, country: str | None) -> str | None:
    """A normalised identity for quotas and split-shipment checks (name + postcode + country)."""
    if not name:
        return None
    norm = " ".join(name.lower().split())
    return f"{norm}|{(postcode or '').replace(' ', '').lower()}|{(country or '').upper()}"


def _enc(obj: object | None) -> str | None:
    return None if obj is None else encode(obj).decode()


class SqlStore:
    """The clearance Store over SQLAlchemy Core (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    # ------------------------------------------------------------ reads for the pipeline
    def filings_by_reference(
        self, operator_id: str, references: Sequence[str]
    ) -> dict[str, StoredFiling]:
        out: dict[str, StoredFiling] = {}
        refs = sorted(set(references))
        with self.engine.connect() as conn:
            for chunk in _chunks(refs):
                rows = conn.execute(
                    select(
                        t.filings.c.filer_reference,
                        t.filings.c.consignment_id,
                        t.filings.c.version,
                        t.filings.c.body_hash,
                    ).where(
                        t.filings.c.operator_id == operator_id,
                        t.filings.c.filer_reference.in_(chunk),
                    )
                )
                for ref, cid, version, h in rows:
                    if ref not in out or version > out[ref].version:
                        out[ref] = StoredFiling(cid, version, h)
        return out

    def heads_by_transport_document(self, documents: Sequence[str]) -> dict[str, ConsignmentHead]:
        out: dict[str, ConsignmentHead] = {}
        c = t.consignments.c
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(documents))):
                rows = conn.execute(
                    select(
                        c.transport_document, c.id, c.status, c.version, c.owner_id, c.data_set
                    ).where(c.transport_document.in_(chunk))
                )
                for td, cid, status, version, owner, ds in rows:
                    out[td] = ConsignmentHead(cid, status, version, owner, ds, td)
        return out

    def heads_by_keys(self, keys: Sequence[str]) -> dict[str, ConsignmentHead]:
        keys = sorted(set(keys))
        out = self.heads_by_transport_document(keys)  # synthetic keys are stored there too
        c = t.consignments.c
        for prefix, column in (("order:", c.order_id), ("payment:", c.payment_id)):
            wanted = [k.removeprefix(prefix) for k in keys if k.startswith(prefix)]
            if not wanted:
                continue
            with self.engine.connect() as conn:
                for chunk in _chunks(wanted):
                    rows = conn.execute(
                        select(column, c.id, c.status, c.version, c.owner_id, c.data_set).where(
                            column.in_(chunk)
                        )
                    )
                    for key, cid, status, version, owner, ds in rows:
                        out.setdefault(
                            prefix + key, ConsignmentHead(cid, status, version, owner, ds)
                        )
        return out

    def legs_of(self, consignment_ids: Sequence[str]) -> dict[str, list[Leg]]:
        f = t.filings.c
        latest: dict[tuple[str, str, str], tuple[int, Leg]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(consignment_ids)):
                rows = conn.execute(
                    select(
                        f.consignment_id,
                        f.operator_id,
                        f.filer_reference,
                        f.version,
                        f.kind,
                        f.role,
                        f.body,
                    ).where(f.consignment_id.in_(chunk))
                )
                for cid, op, ref, version, kind, role, body in rows:
                    key = (cid, op, ref)
                    if key not in latest or version > latest[key][0]:
                        latest[key] = (version, Leg(kind, role, _DOC.decode(body), f"{op}/{ref}"))
        out: dict[str, list[Leg]] = {}
        for (cid, _, _), (_, leg) in sorted(latest.items()):
            out.setdefault(cid, []).append(leg)
        return out

    def load(self, consignment_id: str) -> Consignment | None:
        return self.load_many([consignment_id]).get(consignment_id)

    def load_many(self, ids: Sequence[str]) -> dict[str, Consignment]:
        out: dict[str, Consignment] = {}
        c = t.consignments.c
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids)):
                for row in conn.execute(select(t.consignments).where(c.id.in_(chunk))).mappings():
                    out[row["id"]] = _consignment(row)
        return out

    def open_holds(self, consignment_ids: Sequence[str]) -> dict[str, list[Hold]]:
        out: dict[str, list[Hold]] = {}
        h = t.holds.c
        with self.engine.connect() as conn:
            for chunk in _chunks(list(consignment_ids)):
                rows = conn.execute(
                    select(t.holds).where(h.consignment_id.in_(chunk), h.lifted_at.is_(None))
                ).mappings()
                for r in rows:
                    out.setdefault(r["consignment_id"], []).append(_hold(r))
        return out

    def holds(self, consignment_id: str) -> list[Hold]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.holds)
                .where(t.holds.c.consignment_id == consignment_id)
                .order_by(t.holds.c.placed_at)
            ).mappings()
            return [_hold(r) for r in rows]

    def operators_of(self, consignment_ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        f = t.filings.c
        with self.engine.connect() as conn:
            for chunk in _chunks(list(consignment_ids)):
                rows = conn.execute(
                    select(f.consignment_id, f.operator_id)
                    .where(f.consignment_id.in_(chunk))
                    .distinct()
                )
                for cid, op in rows:
                    out.setdefault(cid, set()).add(op)
        return out

    # ------------------------------------------------------------ the unit of work
    def commit(self, changes: ChangeSet) -> None:
        try:
            with self._writer.begin() as conn:
                self._write(conn, changes)
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                # in domain words: the constraint's name and the SQL stay in the log
                raise StaleWrite(_what_collided(exc)) from exc
            raise
        for cons, _ in changes.updated:
            cons.revision += 1  # the stored record moved on with this write

    def _write(self, conn: Connection, changes: ChangeSet) -> None:
        """The unit of work's rows, then their audit records, in the caller's transaction."""
        created = [_row(c) for c in changes.created]
        updated = [_row(c) for c, _ in changes.updated]
        if created:
            bulk_insert(conn, t.consignments, created)
        if updated:
            _update_consignments(conn, [cons for cons, _ in changes.updated], updated)
        # the tamper-evident record of all of it, in the same transaction (storage/audit.py)
        record = audit.Recorder()
        filing_rows = [vars_of(f) for f in changes.filings]
        if filing_rows:
            bulk_insert(conn, t.filings, filing_rows)
            for f in filing_rows:
                record.filing(f)
        evs = [e for cons in changes.created for e in cons.events] + [
            e for cons, _ in changes.updated for e in cons.events
        ]
        event_values: list[list[Any]] = []
        for e in evs:
            data = encode(e.data).decode() if e.data else None
            event_values.append(
                [e.consignment_id, e.kind, e.at, e.actor, e.from_status, e.to_status, data]
            )
            record.event(
                e.consignment_id, e.kind, e.at, e.actor, e.from_status, e.to_status, e.data, data
            )
        insert_values(conn, t.events, _EVENT_COLUMNS, event_values)
        audit.append_texts(
            conn, record.records(), created + updated, fresh={row["id"] for row in created}
        )
        if changes.notices:
            at = _now_of(evs)
            insert_values(
                conn,
                t.notices,
                _NOTICE_COLUMNS,
                [
                    [n.operator_id, n.consignment_id, n.kind, encode(n.body).decode(), at]
                    for n in changes.notices
                ],
            )
        if changes.holds:
            conn.execute(insert(t.holds), [vars_of(h) for h in changes.holds])
        for h in changes.lifted:
            conn.execute(
                update(t.holds)
                .where(t.holds.c.id == h.id)
                .values(lifted_by=h.lifted_by, lifted_at=h.lifted_at, lift_reason=h.lift_reason)
            )
        if changes.inspections:
            conn.execute(insert(t.inspections), changes.inspections)
        if changes.queued:
            write_outbox(conn, changes.queued)
        if changes.unmatched:
            from clearway.storage.unmatched import write_held

            write_held(conn, changes.unmatched)
        for cons in changes.created:
            cons.events.clear()
        for cons, _ in changes.updated:
            cons.events.clear()

    # ------------------------------------------------------------ queries for the API
    def can_see(self, operator_id: str, consignment_id: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    select(t.filings.c.id)
                    .where(
                        t.filings.c.consignment_id == consignment_id,
                        t.filings.c.operator_id == operator_id,
                    )
                    .limit(1)
                ).first()
                is not None
            )

    def events_of(self, consignment_id: str) -> list[Event]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.events)
                .where(t.events.c.consignment_id == consignment_id)
                .order_by(t.events.c.id)
            ).mappings()
            return [
                Event(
                    r["consignment_id"],
                    r["kind"],
                    aware(r["at"]) or r["at"],
                    r["actor"],
                    r["from_status"],
                    r["to_status"],
                    r["data"] or {},
                )
                for r in rows
            ]

    def filings_of(self, consignment_id: str) -> list[dict[str, Any]]:
        f = t.filings.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    f.id,
                    f.operator_id,
                    f.role,
                    f.filer_reference,
                    f.version,
                    f.format,
                    f.received_at,
                    t.operators.c.name.label("operator"),
                )
                .join(t.operators, t.operators.c.id == f.operator_id)
                .where(f.consignment_id == consignment_id)
                .order_by(f.received_at, f.version)
            ).mappings()
            return [{**r, "received_at": aware(r["received_at"])} for r in rows]

    def notices_after(
        self, operator_id: str, cursor: int, limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        n = t.notices.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(n.id, n.body, n.created_at)
                .where(n.operator_id == operator_id, n.id > cursor)
                .order_by(n.id)
                .limit(limit)
            )
            out = []
            for nid, body, created in rows:
                data = msgspec.json.decode(body)
                data["created_at"] = (aware(created) or created).isoformat() if created else None
                out.append((nid, data))
            return out

    def awaiting_legs(self, destinations: Sequence[str], filed_before: datetime) -> list[str]:
        """Consignments before arrival, to destinations requiring record legs, filed before
        a time (candidates for an overdue-leg flag)."""
        c = t.consignments.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.id).where(
                    c.status.in_(("referred", "decided")),
                    c.destination_country.in_(list(destinations)),
                    c.created_at < filed_before,
                )
            )
            return [str(r[0]) for r in rows]

    def counts(self, column: str) -> dict[str, int]:
        col = t.consignments.c[column]
        with self.engine.connect() as conn:
            rows = conn.execute(select(col, func.count()).group_by(col))
            return {str(k): int(v) for k, v in rows}

    def transport_documents(self, ids: Sequence[str]) -> dict[str, str]:
        c = t.consignments.c
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(ids)):
                out.update(
                    {
                        str(k): str(v)
                        for k, v in conn.execute(
                            select(c.id, c.transport_document).where(c.id.in_(chunk))
                        )
                    }
                )
        return out


def _hold(row: Any) -> Hold:
    data = dict(row)
    data["placed_at"] = aware(data["placed_at"])
    data["lifted_at"] = aware(data["lifted_at"])
    return Hold(**data)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (stored in UTC); make them aware like PostgreSQL's."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _is_unique_violation(exc: IntegrityError) -> bool:
    """A concurrent writer inserted the same key first (SQLite message, PostgreSQL 23505)."""
    code = getattr(exc.orig, "sqlstate", None)
    return code == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def vars_of(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def _update_consignments(
    conn: Connection, conses: Sequence[Consignment], rows: Sequence[dict[str, Any]]
) -> None:
    """Every updated consignment of a batch (`rows`: their `_row`s) in one executemany
    (psycopg pipelines it into one round trip; a statement per row cost a worker most of its
    time), each optimistic-locked on the revision it was loaded at."""
    params = []
    for cons, stored in zip(conses, rows, strict=True):
        row = dict(stored)
        row.pop("id")
        row.pop("created_at")
        row["revision"] = cons.revision + 1
        params.append(
            {"k_id": cons.id, "k_rev": cons.revision, **{f"v_{k}": v for k, v in row.items()}}
        )
    c = t.consignments.c
    columns = [k.removeprefix("v_") for k in params[0] if k.startswith("v_")]
    stmt = (
        update(t.consignments)
        .where(c.id == bindparam("k_id"), c.revision == bindparam("k_rev"))
        .values({name: bindparam(f"v_{name}") for name in columns})
    )
    done = conn.execute(stmt, params)
    if done.rowcount != len(params):
        stored = dict(
            conn.execute(select(c.id, c.revision).where(c.id.in_([x.id for x in conses]))).all()
        )
        stale = next((x.id for x in conses if stored.get(x.id) != x.revision + 1), conses[0].id)
        raise StaleWrite(f"consignment {stale} was changed by another request")


def _now_of(evs: list[Event]) -> datetime:
    return evs[-1].at if evs else SystemClock().now()


def _row(c: Consignment) -> dict[str, Any]:
    d = c.document
    dec = c.decision
    a = c.assessment
    consignee = d.consignee
    seller = d.seller
    return {
        "id": c.id,
        "transport_document": c.transport_document,
        "owner_id": c.owner,
        "version": c.version,
        "revision": c.revision,
        "status": c.status,
        "payment_status": c.payment_status,
        "data_set": d.data_set,
        "mode": d.mode,
        "destination_country": d.destination_country,
        "dispatch_country": d.dispatch_country,
        "office": d.office,
        "legal_date": d.legal_date or (c.created_at.date() if c.created_at else None),
        "currency": d.currency,
        "intrinsic_value": str(d.intrinsic_value),
        "lane": dec.lane if dec else None,
        "referral": dec.referral if dec else None,
        "score": f"{dec.score:.6f}" if dec and dec.score is not None else None,
        "random_sample": bool(dec and dec.random_sample),
        "irg_category": a.irg_category if a else None,
        "collection_model": a.collection_model if a else d.collection_model,
        "assessed_currency": a.currency if a else None,
        "assessed_total": str(a.total) if a else None,
        "due_at_border": str(a.due_at_border) if a else None,
        "order_id": d.order.id if d.order else None,
        "payment_id": d.payment.id if d.payment else None,
        "consignee_key": _party_key(consignee.name, consignee.postcode, consignee.country)
        if consignee
        else None,
        "seller_key": _party_key(seller.name, seller.postcode, seller.country) if seller else None,
        "legs": ",".join(c.legs) if c.legs else None,
        "document": encode(d).decode(),
        "decision": _enc(dec),
        "assessment": _enc(a),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "arrived_at": c.arrived_at,
        "closed_at": c.closed_at,
    }


def _consignment(row: Any) -> Consignment:
    return Consignment(
        id=row["id"],
        transport_document=row["transport_document"],
        document=_DOC.decode(row["document"]),
        owner=row["owner_id"],
        status=row["status"],
        payment_status=row["payment_status"],
        version=row["version"],
        revision=row["revision"],
        decision=_DECISION.decode(row["decision"]) if row["decision"] else None,
        assessment=_ASSESSMENT.decode(row["assessment"]) if row["assessment"] else None,
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        arrived_at=aware(row["arrived_at"]),
        closed_at=aware(row["closed_at"]),
        legs=row["legs"].split(",") if row["legs"] else [],
    )


_EVENT_COLUMNS = ("consignment_id", "kind", "at", "actor", "from_status", "to_status", "data")
_NOTICE_COLUMNS = ("operator_id", "consignment_id", "kind", "body", "created_at")


# ---------------------------------------------------------------- operators and API keys
@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an operator and the role its key grants."""

    operator_id: str
    operator: str
    role: str
    grants: frozenset[str] = frozenset()

    @property
    def sees_everything(self) -> bool:
        """Reads every parcel, account and declaration: officers and admins, and analysts whose
        key was granted consignment access (`clearway keys create --grant consignments`)."""
        return self.role in ("officer", "admin") or (
            self.role == "analyst" and "consignments" in self.grants
        )

    @property
    def reads_aggregates(self) -> bool:
        """Reads aggregate reports (totals per number, per account): staff and analysts."""
        return self.role in ("officer", "analyst", "admin")


KEY_GRANTS = ("consignments",)


def _hash_secret(secret: str) -> str:
    # API keys are 32 random bytes: a fast hash suffices (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


class Operators:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def ensure(self, name: str, role: str) -> str:
        """The operator's id, creating the operator on first use."""
        with writer(self.engine).begin() as conn:
            row = conn.execute(
                select(t.operators.c.id, t.operators.c.role).where(t.operators.c.name == name)
            ).first()
            if row is not None:
                return str(row[0])
            oid = new_id("op")
            conn.execute(
                insert(t.operators).values(
                    id=oid, name=name, role=role, created_at=self.clock.now()
                )
            )
            return oid

    def create_key(self, operator: str, role: str, grants: Sequence[str] = ()) -> str:
        """Create an API key for an operator (created if new); returns the key, shown once.
        `grants` adds rights beyond the role (`consignments`: an analyst reads parcels)."""
        unknown = set(grants) - set(KEY_GRANTS)
        if unknown:
            raise ValueError(f"unknown grants {sorted(unknown)}; grants: {', '.join(KEY_GRANTS)}")
        oid = self.ensure(operator, role)
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with writer(self.engine).begin() as conn:
            conn.execute(
                insert(t.api_keys).values(
                    id=new_id("key"),
                    prefix=prefix,
                    secret_hash=_hash_secret(secret),
                    operator_id=oid,
                    role=role,
                    created_at=self.clock.now(),
                    grants=",".join(sorted(set(grants))) or None,
                )
            )
        return f"cw_{prefix}_{secret}"

    def authenticate(self, key: str) -> Principal | None:
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "cw":
            return None
        k = t.api_keys.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(k.secret_hash, k.role, k.operator_id, t.operators.c.name, k.grants)
                .join(t.operators, t.operators.c.id == k.operator_id)
                .where(and_(k.prefix == parts[1], k.revoked_at.is_(None)))
            ).first()
        if row is None or not secrets.compare_digest(row[0], _hash_secret(parts[2])):
            return None
        grants = frozenset(g for g in (row[4] or "").split(",") if g)
        return Principal(row[2], row[3], row[1], grants)

    def revoke(self, prefix: str) -> None:
        """Revoke a key, and end the web sessions its operator opened in that role (a session
        opened with the key would otherwise outlive it)."""
        k = t.api_keys.c
        with writer(self.engine).begin() as conn:
            key = conn.execute(
                select(k.operator_id, k.role).where(k.prefix == prefix, k.revoked_at.is_(None))
            ).first()
            if key is None:
                raise NotFound(f"no active key with prefix {prefix}")
            conn.execute(
                update(t.api_keys).where(k.prefix == prefix).values(revoked_at=self.clock.now())
            )
            conn.execute(
                delete(web_sessions).where(
                    web_sessions.c.operator_id == key[0], web_sessions.c.role == key[1]
                )
            )


__all__ = ["Conflict", "Operators", "Principal", "SqlStore"]


def _what_collided(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    for table, words in (
        ("filings", "another request stored a filing with the same filer reference"),
        ("consignments", "another request created the same parcel"),
        ("holds", "another request placed the same hold"),
    ):
        if table in text:
            return words
    return "another request stored the same record"
