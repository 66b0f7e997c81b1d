"""The tamper-evident record of every parcel: one hash chain per consignment, daily digests.

Every commit of the unit of work appends, in the same transaction, an audit record for each
filing version, one for the events of each consignment it writes (`{"events": [...]}`, in their
order; records written before 2026-12-02 hold one event each and are read as such), and one for
each new document, assessment and decision of the consignments it writes. A record holds the
canonical JSON of what it records, the SHA-256 of that content and the chain hash of the
previous record of the same consignment (chain = SHA-256(prev + content hash)); a unique
(consignment, previous hash) pair keeps two writers from forking a chain.

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
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import Connection, Engine, func, insert, select

from clearway.storage import tables as t
from clearway.storage.bulk import insert_values
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


def filing_content(
    row: dict[str, Any], when: Callable[[datetime | None], str | None] = _when
) -> dict[str, Any]:
    """A filing version's record content; `when` writes its instant (a commit caches them)."""
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
        "received_at": when(row["received_at"]),
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


# one record to write: consignment, kind, time, canonical text of its content
Pending = tuple[str, str, datetime, str]


def _flat(value: dict[str, Any]) -> bool:
    """`_plain` for a dictionary whose values are not containers: one loop, no recursion."""
    for item in value.values():
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int and -_INT64 <= item < _INT64:
            continue
        return False
    return True


def _canonical_flat(value: dict[str, Any]) -> str:
    return _ENCODER.encode(value).decode() if _flat(value) else canonical(value)


class Recorder:
    """The canonical texts of one commit's filing and event records, built as `canonical`
    would build them from the rows read back (`filing_content`, `event_content`) without the
    round trips: an instant's text is made once per commit, and an event's data that holds
    only plain values (`_plain`) is its own JSON reading, so it is not encoded and parsed
    again (`tests/storage/test_audit_fast.py` holds each text to the reference). The events of
    one consignment make one record (`records`)."""

    __slots__ = ("_events", "_filings", "_when")

    def __init__(self) -> None:
        self._when: dict[datetime | None, str | None] = {}
        self._filings: list[Pending] = []
        self._events: dict[str, _Events] = {}  # per consignment, in order of first event

    def when(self, value: datetime | None) -> str | None:
        found = self._when.get(value)
        if found is None:
            found = self._when[value] = _when(value)
        return found

    def filing(self, row: dict[str, Any]) -> None:
        """A filing version (its row as stored)."""
        content = filing_content(row, self.when)
        text = _canonical_flat(content)
        self._filings.append((row["consignment_id"], "filing", row["received_at"], text))

    def event(
        self,
        consignment_id: str,
        kind: str,
        at: datetime,
        actor: str,
        from_status: str | None,
        to_status: str | None,
        data: Any,
        data_text: str | None,
    ) -> None:
        """An event: `data` as the caller holds it, `data_text` its JSON as stored (None for
        none). The record holds the JSON's reading, which is `data` itself when plain."""
        if data_text is None:
            value = None
        elif type(data) is dict and _plain(data):
            value = data
        else:
            value = json.loads(data_text)
        content = {
            "kind": kind,
            "at": self.when(at),
            "actor": actor,
            "from": from_status,
            "to": to_status,
            "data": value,
        }
        plain = (value is None or value is data) and _flat_but_data(content)
        found = self._events.get(consignment_id)
        if found is None:
            self._events[consignment_id] = _Events([content], plain, at)
        else:
            found.contents.append(content)
            found.plain = found.plain and plain
            found.at = at

    def records(self) -> list[Pending]:
        """The filing records, then one record per consignment holding its events."""
        out = list(self._filings)
        for cid, events in self._events.items():
            value = {"events": events.contents}
            text = _ENCODER.encode(value).decode() if events.plain else canonical(value)
            out.append((cid, "event", events.at, text))
        return out


@dataclass(slots=True)
class _Events:
    """One consignment's events in a commit: their contents, whether every one is plain
    throughout (the encoder writes the record), the time of the last (the record's)."""

    contents: list[dict[str, Any]]
    plain: bool
    at: datetime


def _flat_but_data(content: dict[str, Any]) -> bool:
    for key, item in content.items():
        if key != "data" and not (type(item) is str or item is None):
            return False
    return True


# ---------------------------------------------------------------- appending
def append(
    conn: Connection, entries: Sequence[Entry], consignments: Sequence[dict[str, Any]]
) -> None:
    """Record `entries` and the new document/assessment/decision of `consignments` (their
    stored rows), linking each to its consignment's chain: `append_texts` with each entry's
    canonical text."""
    append_texts(
        conn,
        [(e.consignment_id, e.kind, e.at, canonical(e.content)) for e in entries],
        consignments,
    )


def append_texts(
    conn: Connection,
    pending: Sequence[Pending],
    consignments: Sequence[dict[str, Any]],
    fresh: Collection[str] = (),
) -> None:
    """Record `pending` (texts from `canonical` or a `Recorder`) and the new document,
    assessment and decision of `consignments` (their stored rows), linking each to its
    consignment's chain. `fresh`: ids of consignments created in this transaction, which have
    no record yet (their chains are not looked up). Call inside the writing transaction, after
    the consignment rows are written (their row locks keep chains single-file)."""
    ids = {p[0] for p in pending}
    ids.update(c["id"] for c in consignments)
    if not ids:
        return
    heads, last = _heads(conn, sorted(ids.difference(fresh)))
    digest = hashlib.sha256
    todo: list[tuple[str, str, datetime, str, str | None]] = [(*p, None) for p in pending]
    for row in consignments:
        cid = row["id"]
        recorded = {kind for kind in PARTS if (cid, kind) in last}
        for kind, content in _parts(row, recorded):
            text = _canonical_flat(content)
            content_hash = digest(text.encode()).hexdigest()  # hashed once, kept below
            if last.get((cid, kind)) != content_hash:
                todo.append((cid, kind, row["updated_at"], text, content_hash))
    rows: list[list[Any]] = []
    for cid, kind, at, text, known in todo:
        content_hash = known or digest(text.encode()).hexdigest()
        prev = heads.get(cid, GENESIS)
        chain = digest((prev + content_hash).encode()).hexdigest()
        heads[cid] = chain
        rows.append([cid, kind, at, text, content_hash, prev, chain])
    # COPY on PostgreSQL: one round trip
    insert_values(conn, audit_records, _RECORD_COLUMNS, rows)


_RECORD_COLUMNS = (
    "consignment_id",
    "kind",
    "at",
    "content",
    "content_hash",
    "prev_hash",
    "chain_hash",
)


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

    # each recorded event: its record's seq, its canonical text, its content
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
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
            if "kind" in content:  # one event per record (written before 2026-12-02)
                out.events.append((rec["seq"], rec["content"], content))
            else:  # the events of one commit
                out.events.extend((rec["seq"], canonical(item), item) for item in content["events"])
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
        if canonical(event_content(row)) != recorded[1]:
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
