"""The tamper-evident record of every parcel: one hash chain per consignment, daily digests.

Every commit of the unit of work appends, in the same transaction, an audit record for each
event, each filing version, and each new document, assessment and decision of the consignments
it writes. A record holds the canonical JSON of what it records, the SHA-256 of that content and
the chain hash of the previous record of the same consignment (chain = SHA-256(prev + content
hash)); a unique (consignment, previous hash) pair keeps two writers from forking a chain.

`walk` checks one chain's links and hands back its trustworthy records; `tables_break` compares
them with the live `events` and `filings` rows. What the consignment is, as its records say, and
`verify` over every chain live in `storage/record_view.py`. `digest` stores, per day, a Merkle
root over that day's chain heads, for anchoring outside the database (`clearway audit export`);
`verify` recomputes the stored digests too.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Connection, Engine, func, insert, select

from clearway.storage import tables as t
from clearway.storage.bulk import bulk_insert
from clearway.storage.tables_audit import audit_digests, audit_records

if TYPE_CHECKING:
    from clearway.storage import record_view

GENESIS = "0" * 64
_CHUNK = 500


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value: dict[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 text: the bytes every record's hash is taken over.

    msgspec writes the same text as `json.dumps` for strings, whole numbers, booleans, null,
    lists and string-keyed objects, several times faster; anything else (a float, whose exponent
    it writes differently) takes `json.dumps`, so stored hashes never change.
    """
    if _plain(value):
        return _ENCODER.encode(value).decode()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_ENCODER = msgspec.json.Encoder(order="sorted")
_INT64 = 2**63


def _plain(value: object) -> bool:
    """Only str, bool, int (64-bit), None, list and str-keyed dict, all the way down (exact
    types: a subclass takes `json.dumps`). Loops, not `all(...)`: this runs per audit record."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_INT64 <= value < _INT64  # type: ignore[operator]
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]  # noqa: SIM110
            if type(key) is not str or not _plain(item):
                return False
        return True
    if kind is list:
        for item in value:  # type: ignore[attr-defined]  # noqa: SIM110
            if not _plain(item):
                return False
        return True
    return False


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def event_content(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "at": _when(row["at"]),
        "actor": row["actor"],
        "from": row["from_status"],
        "to": row["to_status"],
        # written as JSON text, read back parsed (or as text, by the driver): compare values
        "data": json.loads(row["data"]) if isinstance(row["data"], str) else row["data"],
    }


def filing_content(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "operator_id": row["operator_id"],
        "role": row["role"],
        "filer_reference": row["filer_reference"],
        "version": row["version"],
        "format": row["format"],
        "kind": row["kind"],
        "body_sha256": sha256(row["body"]),
        "body_hash": row["body_hash"],
        "warnings": row["warnings"],
        "received_at": _when(row["received_at"]),
    }


def document_content(row: dict[str, Any]) -> dict[str, Any]:
    """What a consignment row holds besides its lifecycle, decision and assessment: the merged
    document as stored, its version, owner, transport document and the legs merged into it."""
    return {
        "document": row["document"],
        "version": row["version"],
        "owner": row["owner_id"],
        "transport_document": row["transport_document"],
        "legs": row["legs"],
    }


# what a consignment row carries that is recorded whole (each when it changes)
PARTS = ("document", "assessment", "decision")


def _parts(row: dict[str, Any], recorded: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "document", document_content(row)
    for kind in ("assessment", "decision"):
        text = row.get(kind)
        if text is not None or kind in recorded:  # a withdrawn one is recorded as null
            yield kind, {kind: text}


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing to record: its consignment, kind, time and content."""

    consignment_id: str
    kind: str
    at: datetime
    content: dict[str, Any]


# ---------------------------------------------------------------- appending
def append(
    conn: Connection, entries: Sequence[Entry], consignments: Sequence[dict[str, Any]]
) -> None:
    """Record `entries` and the new document/assessment/decision of `consignments` (their
    stored rows), linking each to its consignment's chain. Call inside the writing transaction,
    after the consignment rows are written (their row locks keep chains single-file)."""
    ids = sorted({e.consignment_id for e in entries} | {c["id"] for c in consignments})
    if not ids:
        return
    heads, last = _heads(conn, ids)
    todo: list[Entry] = list(entries)
    for row in consignments:
        cid = row["id"]
        recorded = {kind for kind in PARTS if (cid, kind) in last}
        for kind, content in _parts(row, recorded):
            if last.get((cid, kind)) != sha256(canonical(content)):
                todo.append(Entry(cid, kind, row["updated_at"], content))
    rows = []
    for e in todo:
        text = canonical(e.content)
        content_hash = sha256(text)
        prev = heads.get(e.consignment_id, GENESIS)
        chain = sha256(prev + content_hash)
        heads[e.consignment_id] = chain
        rows.append(
            {
                "consignment_id": e.consignment_id,
                "kind": e.kind,
                "at": e.at,
                "content": text,
                "content_hash": content_hash,
                "prev_hash": prev,
                "chain_hash": chain,
            }
        )
    if rows:
        bulk_insert(conn, audit_records, rows)  # COPY on PostgreSQL: one round trip


def _heads(conn: Connection, ids: list[str]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Per consignment: its chain head; per (consignment, kind): the last content hash."""
    r = audit_records.c
    heads: dict[str, str] = {}
    last: dict[tuple[str, str], str] = {}
    for chunk in _chunks(ids):
        newest = (
            select(func.max(r.seq))
            .where(r.consignment_id.in_(chunk))
            .group_by(r.consignment_id, r.kind)
        )
        rows = conn.execute(
            select(r.seq, r.consignment_id, r.kind, r.content_hash, r.chain_hash).where(
                r.seq.in_(newest)
            )
        ).all()
        best: dict[str, int] = {}
        for seq, cid, kind, content_hash, chain in rows:
            last[(cid, kind)] = content_hash
            if seq > best.get(cid, -1):
                best[cid] = seq
                heads[cid] = chain
    return heads, last


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# ---------------------------------------------------------------- verifying
@dataclass(frozen=True, slots=True)
class Break:
    """The first broken link of one consignment's record."""

    consignment_id: str
    kind: str  # record | event | filing | document | decision | assessment | status | digest
    where: str  # which record or row
    what: str  # what was found

    def __str__(self) -> str:
        return f"{self.consignment_id} {self.kind} {self.where}: {self.what}"


@dataclass(slots=True)
class Chains:
    """Some consignments' records, events and filings, read in one snapshot."""

    records: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    events: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    filings: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))


def read_chains(conn: Connection, ids: list[str]) -> Chains:
    r = audit_records.c
    e = t.events.c
    out = Chains()
    for row in conn.execute(
        select(audit_records).where(r.consignment_id.in_(ids)).order_by(r.seq)
    ).mappings():
        out.records[row["consignment_id"]].append(row)
    for row in conn.execute(
        select(t.events).where(e.consignment_id.in_(ids)).order_by(e.id)
    ).mappings():
        out.events[row["consignment_id"]].append(row)
    for row in conn.execute(
        select(t.filings).where(t.filings.c.consignment_id.in_(ids))
    ).mappings():
        out.filings[row["consignment_id"]][row["id"]] = row
    return out


@dataclass(slots=True)
class Walked:
    """One chain walked from its first record: what its sound records say, and where the
    first unsound one is (records after it are not to be trusted)."""

    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # seq, hash
    filings: dict[str, str] = field(default_factory=dict)  # filing id -> content hash
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)  # last document/decision/…
    broken: Break | None = None


def walk(cid: str, recs: list[Any]) -> Walked:
    out = Walked()
    prev = GENESIS
    for rec in recs:
        where = f"record {rec['seq']} ({rec['kind']})"
        if sha256(rec["content"]) != rec["content_hash"]:
            out.broken = Break(cid, "record", where, "its content was changed after it was written")
        elif rec["prev_hash"] != prev:
            out.broken = Break(cid, "record", where, "its link to the previous record is broken")
        elif sha256(prev + rec["content_hash"]) != rec["chain_hash"]:
            out.broken = Break(cid, "record", where, "its chain hash does not follow from its link")
        if out.broken is not None:
            return out
        prev = rec["chain_hash"]
        content = json.loads(rec["content"])
        if rec["kind"] == "event":
            out.events.append((rec["seq"], rec["content_hash"], content))
        elif rec["kind"] == "filing":
            out.filings[content["id"]] = rec["content_hash"]
        else:
            out.parts[rec["kind"]] = content
    return out


def verify(engine: Engine, since: date | None = None) -> record_view.Report:
    """Every chain (with records since `since`) against the live tables, the consignment rows
    and the stored digests: `record_view.verify`, which builds on this module."""
    from clearway.storage import record_view as view  # imports this module: resolved at call

    return view.verify(engine, since)


def tables_break(
    cid: str, walked: Walked, events: list[Any], filings: dict[str, Any]
) -> Break | None:
    """The first difference between a chain's sound records and the `events` and `filings`
    rows of its consignment (changed, deleted, or inserted without a record)."""
    for n, (recorded, row) in enumerate(_pairs(walked.events, events), start=1):
        if row is None:
            assert recorded is not None
            return Break(cid, "event", f"event {n}", f"recorded (record {recorded[0]}) but deleted")
        what = f"event {n} ({row['kind']} at {_when(row['at'])}, id {row['id']})"
        if recorded is None:
            return Break(cid, "event", what, "in the table but never recorded (inserted)")
        if sha256(canonical(event_content(row))) != recorded[1]:
            return Break(cid, "event", what, "differs from its record (changed)")
    for fid, content_hash in walked.filings.items():
        row = filings.get(fid)
        if row is None:
            return Break(cid, "filing", fid, "recorded but deleted")
        if sha256(canonical(filing_content(row))) != content_hash:
            return Break(
                cid,
                "filing",
                f"{fid} ({row['filer_reference']} v{row['version']})",
                "differs from its record (body or metadata changed)",
            )
    for fid in sorted(set(filings) - set(walked.filings)):
        return Break(cid, "filing", fid, "in the table but never recorded (inserted)")
    return None


def _pairs(recorded: list[Any], rows: list[Any]) -> Iterable[tuple[Any | None, Any]]:
    for i in range(max(len(recorded), len(rows))):
        yield (recorded[i] if i < len(recorded) else None, rows[i] if i < len(rows) else None)


# ---------------------------------------------------------------- daily digests
@dataclass(frozen=True, slots=True)
class Digest:
    day: date
    root: str
    chains: int
    records: int

    def export(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "root": self.root,
            "chains": self.chains,
            "records": self.records,
            "algorithm": "sha256 Merkle root over sha256(consignment_id ':' chain head of the "
            "day), leaves sorted by consignment id, odd leaf paired with itself",
        }


def compute_digest(conn: Connection, day: date) -> Digest:
    r = audit_records.c
    start = datetime.combine(day, time(), UTC)
    rows = conn.execute(
        select(r.consignment_id, r.chain_hash)
        .where(r.at >= start, r.at < start + timedelta(days=1))
        .order_by(r.seq)
    ).all()
    heads: dict[str, str] = {}
    for cid, chain in rows:
        heads[cid] = chain
    leaves = [sha256(f"{cid}:{heads[cid]}") for cid in sorted(heads)]
    return Digest(day, merkle_root(leaves), len(heads), len(rows))


def merkle_root(leaves: list[str]) -> str:
    if not leaves:
        return sha256("")
    level = leaves
    while len(level) > 1:
        if len(level) % 2:
            level = [*level, level[-1]]
        level = [sha256(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def digest(engine: Engine, day: date, now: datetime) -> Digest:
    """Compute and store the digest of `day` (once: a stored day is never rewritten)."""
    with engine.begin() as conn:
        found = compute_digest(conn, day)
        stored = conn.execute(select(audit_digests).where(audit_digests.c.day == day)).first()
        if stored is None:
            conn.execute(
                insert(audit_digests).values(
                    day=day,
                    root=found.root,
                    chains=found.chains,
                    records=found.records,
                    computed_at=now,
                )
            )
    return found


def stored_digest(engine: Engine, day: date) -> Digest | None:
    with engine.connect() as conn:
        row = conn.execute(select(audit_digests).where(audit_digests.c.day == day)).first()
    return None if row is None else Digest(row.day, row.root, row.chains, row.records)


def verify_digests(conn: Connection, since: date | None) -> list[Break]:
    """The stored digests (of days from `since`) that no longer follow from their records."""
    query = select(audit_digests)
    if since is not None:
        query = query.where(audit_digests.c.day >= since)
    out = []
    for row in conn.execute(query.order_by(audit_digests.c.day)).mappings():
        again = compute_digest(conn, row["day"])
        if again.root != row["root"]:
            out.append(
                Break(
                    "-",
                    "digest",
                    row["day"].isoformat(),
                    f"the day's records no longer give the stored root ({again.records} records "
                    f"now, {row['records']} then)",
                )
            )
    return out
