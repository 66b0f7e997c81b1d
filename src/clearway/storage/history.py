"""Risk history from the database: a `clearway.risk.history.HistoryProvider` over stored parcels.

- **Same-day totals** (split shipments) are read live, in one query per batch, through the
  `(consignee_key, legal_date)` index: they must include the parcel filed a second ago.
- **Entity counts** (seen / inspected / irregular per seller, consignee, HS6, description, the
  model's key groups …) and **reference unit prices** (median declared unit value per HS6 and
  currency over the most recent observations) are aggregates kept in process. They are brought
  up to date incrementally — one query for consignments stored since the last look, one for new
  inspection results — at most every `max_age` seconds, so a batch of 1,000 costs at most a few
  queries and usually none. Keys come from `clearway.risk.history_keys`, the same code risk uses
  to look them up, applied to the stored canonical documents. Only the entity kinds the risk
  selector's profiles and model look up are counted (`count_only`; all of them by default).
- The batches this process decides are noted (`note_batch`): when the listing finds one of their
  consignments stored with exactly the noted document, legal date and owner, it is counted from
  the batch's columns in memory instead of being decoded again; everything else (other
  processes' filings, a consignment changed since) is read from the database as before.

Ids are time-ordered (`kernel.ids`), so "since the last look" is an id range on the primary key;
a trailing window of `lag` seconds is re-listed (ids only) so that a transaction committing late
is still counted, exactly once.
"""

from __future__ import annotations

import base64
import statistics
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select

from clearway.domain.filing import FilingDocument, encode
from clearway.domain.ports import RiskInput
from clearway.risk.columns import Columns
from clearway.risk.history import EntityStat, SameDayKey, SameDayTotal
from clearway.risk.history_keys import ALL_KINDS, entity_keys, unit_price_rows
from clearway.storage import tables as t

_DOC = msgspec.json.Decoder(FilingDocument)
_CHUNK = 500  # bound IN (...) lists for both SQLite and PostgreSQL
_MAX_NOTES = 20_000  # noted consignments kept at most (`SqlHistory.note_batch`)
IntArray = npt.NDArray[np.int64]
_CROCKFORD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


class _Intrinsic(msgspec.Struct):
    intrinsic_value: Decimal


_ASSESSED_VALUE = msgspec.json.Decoder(_Intrinsic)


def id_floor(prefix: str, ms: int) -> str:
    """The smallest id `kernel.ids.new_id(prefix)` can produce at epoch millisecond `ms`."""
    raw = max(ms, 0).to_bytes(6, "big") + bytes(9)
    return f"{prefix}_{base64.b32encode(raw).translate(_CROCKFORD).decode()}"


def _chunks(seq: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(seq), _CHUNK):
        yield seq[i : i + _CHUNK]


class _Tail:
    """Incremental reader of one table by time-ordered id, counting every row once."""

    def __init__(self, prefix: str, lag_ms: int) -> None:
        self.prefix = prefix
        self.lag_ms = lag_ms
        self.mark_ms = 0  # newest id time seen
        self.recent: dict[str, int] = {}  # ids inside the trailing window -> their ms

    def new_ids(self, listed: Iterable[str]) -> list[str]:
        fresh = [i for i in listed if i not in self.recent]
        for i in fresh:
            ms = _id_ms(i)
            self.recent[i] = ms
            self.mark_ms = max(self.mark_ms, ms)
        floor = self.mark_ms - self.lag_ms
        self.recent = {i: ms for i, ms in self.recent.items() if ms >= floor}
        return fresh

    def floor(self) -> str:
        return id_floor(self.prefix, self.mark_ms - self.lag_ms)


# Crockford's digits as Python's base-32 digits: the id's first 10 characters are 50 bits, the
# top 48 of them the creation millisecond
_CROCKFORD_DIGITS = str.maketrans(
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789abcdefghijklmnopqrstuv"
)


def _id_ms(identifier: str) -> int:
    """The creation millisecond encoded at the front of a `kernel.ids` id."""
    body = identifier[identifier.index("_") + 1 :][:10]
    return int(body.translate(_CROCKFORD_DIGITS), 32) >> 2


class SqlHistory:
    """HistoryProvider over the consignments, operators and inspections tables."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_age: float = 1.0,
        lag: float = 5.0,
        price_window: int = 400,
        min_price_observations: int = 5,
        clock: Callable[[], float] = time.monotonic,
        kinds: Collection[str] | None = None,
    ) -> None:
        self.engine = engine
        self.max_age = max_age
        self.price_window = price_window
        self.min_price_observations = min_price_observations
        self._clock = clock
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._consignments = _Tail("cns", int(lag * 1000))
        self._inspections = _Tail("ins", int(lag * 1000))
        self._counts: dict[str, dict[str, list[int]]] = {}  # kind -> key -> [seen, insp, irr]
        # the entity kinds counted (default all; see `count_only`)
        self._kinds: set[str] = set(ALL_KINDS if kinds is None else kinds) & set(ALL_KINDS)
        self._prices: dict[tuple[str, str], deque[float]] = {}
        self._medians: dict[tuple[str, str], float] = {}
        # consignment id -> the decided batch's columns and its index there (`note_batch`)
        self._notes: OrderedDict[str, tuple[Columns, int]] = OrderedDict()
        self._notes_lock = threading.Lock()
        self.queries = 0  # statements run, for tests and benchmarks
        self.noted_hits = 0  # stored consignments counted from a noted batch, not decoded

    # -- HistoryProvider ------------------------------------------------------------------------

    def entity_stats(self, kind: str, keys: Collection[str]) -> Mapping[str, EntityStat]:
        if kind not in self._kinds and kind in ALL_KINDS:
            self._track(kind)
        self.refresh()
        table = self._counts.get(kind, {})
        return {k: EntityStat(*table[k]) for k in keys if k in table}

    def reference_unit_prices(self, hs6: Collection[str], currency: str) -> Mapping[str, float]:
        self.refresh()
        out: dict[str, float] = {}
        for code in hs6:
            key = (currency, code)
            if key not in self._medians:
                window = self._prices.get(key)
                if window is None or len(window) < self.min_price_observations:
                    continue
                self._medians[key] = statistics.median(window)
            out[code] = self._medians[key]
        return out

    def same_day_totals(
        self, keys: Collection[SameDayKey], exclude: Collection[str] = ()
    ) -> Mapping[SameDayKey, SameDayTotal]:
        if not keys:
            return {}
        wanted = set(keys)
        skip = set(exclude)
        c = t.consignments
        consignees = sorted({k.consignee for k in wanted})
        days = sorted({k.day for k in wanted})
        rows: list[Any] = []
        with self.engine.connect() as conn:
            for chunk in _chunks(consignees):
                self.queries += 1
                rows += conn.execute(
                    select(
                        c.c.id,
                        c.c.consignee_key,
                        c.c.seller_key,
                        c.c.legal_date,
                        c.c.currency,
                        c.c.assessed_currency,
                        c.c.intrinsic_value,
                    ).where(
                        c.c.consignee_key.in_(chunk),
                        c.c.legal_date.in_(days),
                        c.c.data_set != "pre_loading",
                    )
                ).all()
            matched = [
                r
                for r in rows
                if r.id not in skip
                and SameDayKey(r.consignee_key, r.seller_key or "", _day(r.legal_date)) in wanted
            ]
            converted = [
                r.id for r in matched if r.assessed_currency and r.assessed_currency != r.currency
            ]
            assessed: dict[str, Decimal] = {}
            for chunk in _chunks(converted):
                self.queries += 1
                for cid, text in conn.execute(
                    select(c.c.id, c.c.assessment).where(c.c.id.in_(chunk))
                ):
                    assessed[cid] = _ASSESSED_VALUE.decode(text).intrinsic_value
        totals: dict[SameDayKey, tuple[int, Decimal]] = {}
        for r in matched:
            key = SameDayKey(r.consignee_key, r.seller_key or "", _day(r.legal_date))
            value = assessed.get(r.id, Decimal(r.intrinsic_value))
            count, total = totals.get(key, (0, Decimal(0)))
            totals[key] = (count + 1, total + value)
        return {k: SameDayTotal(n, float(v)) for k, (n, v) in totals.items()}

    # -- keeping the aggregates current ----------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Count what was stored since the last look (at most every `max_age` seconds)."""
        now = self._clock()
        if not force and now - self._checked < self.max_age:
            return
        with self._lock:
            if not force and now - self._checked < self.max_age:
                return
            self._checked = now
            with self.engine.connect() as conn:
                self._read_consignments(conn)
                self._read_inspections(conn)

    def count_only(self, kinds: Collection[str]) -> None:
        """Count only these entity kinds: the risk selector names those its profiles and model
        ask for, so that keys nobody looks up are not worked out for every stored item. Before
        the first look only; afterwards the kinds named are added, nothing is dropped."""
        wanted = set(kinds) & set(ALL_KINDS)
        with self._lock:
            if self._checked == float("-inf"):
                self._kinds = wanted
                return
        for kind in wanted:
            self._track(kind)

    def _track(self, kind: str) -> None:
        """Count `kind` from now on, when it was left out (`count_only`) and is asked for after
        the first look: it is counted once over what the listing has taken in so far (the stored
        consignments and inspections before its window, and those listed inside it), as they
        are stored now."""
        with self._lock:
            if kind in self._kinds:
                return
            self._kinds.add(kind)
            if self._checked == float("-inf"):  # nothing read yet: the first look counts it
                return
            with self.engine.connect() as conn:
                for tail, table in (
                    (self._consignments, t.consignments),
                    (self._inspections, t.inspections),
                ):
                    self.queries += 1
                    taken = list(
                        conn.execute(
                            select(table.c.id).where(table.c.id < tail.floor()).order_by(table.c.id)
                        ).scalars()
                    )
                    taken += sorted(tail.recent)
                    if tail is self._consignments:
                        for chunk in _chunks(taken):
                            self.queries += 1
                            inputs = stored_inputs(conn, chunk)
                            if inputs:
                                cols = Columns(inputs)
                                self._count([(cols, n, 1, 0, 0) for n in range(cols.n)], {kind})
                    else:
                        for chunk in _chunks(taken):
                            self._count_inspections(conn, chunk, {kind})

    def note_batch(self, columns: Columns) -> None:
        """The batch being decided, kept in memory: once its consignments are listed as stored,
        each is counted from these columns instead of its stored document being decoded again,
        provided the stored document, legal date and owner are exactly the ones noted (anything
        else, such as another process's filings or a consignment changed since, is read from
        the database as before). Notes not used within the listing window are forgotten, and
        none are kept while nobody asks the provider anything (no look to use them)."""
        if self._clock() - self._checked > self.max_age + self._consignments.lag_ms / 1000:
            return
        with self._notes_lock:
            for index, r in enumerate(columns.inputs):
                self._notes[r.consignment_id] = (columns, index)
                self._notes.move_to_end(r.consignment_id)
            while len(self._notes) > _MAX_NOTES:
                self._notes.popitem(last=False)

    def _fresh(self, conn: Any, table: Any, tail: _Tail) -> list[str]:
        """Ids of `table` not counted yet. The ids from the newest millisecond seen on are
        listed; the trailing window before it (where a transaction committing late puts its
        rows) is counted first and listed only when it holds more ids than were seen in it."""
        newest = id_floor(tail.prefix, tail.mark_ms)
        self.queries += 1
        listed = list(
            conn.execute(select(table.c.id).where(table.c.id >= newest).order_by(table.c.id))
            .scalars()
            .all()
        )
        seen = sum(1 for ms in tail.recent.values() if ms < tail.mark_ms)
        floor = tail.floor()
        if floor < newest:
            self.queries += 1
            stored = conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.id >= floor, table.c.id < newest)
            ).scalar_one()
            if stored != seen:
                self.queries += 1
                listed += conn.execute(
                    select(table.c.id)
                    .where(table.c.id >= floor, table.c.id < newest)
                    .order_by(table.c.id)
                ).scalars()
        return tail.new_ids(sorted(listed))

    def _read_consignments(self, conn: Any) -> None:
        fresh = self._fresh(conn, t.consignments, self._consignments)
        for chunk in _chunks(fresh):
            self.queries += 1
            sources = self._sources(stored_rows(conn, chunk))
            if not sources:
                continue
            self._count([(cols, index, 1, 0, 0) for cols, index in sources], self._kinds)
            prices: dict[int, tuple[npt.NDArray[np.bool_], Any, Any, Any, IntArray]] = {}
            for cols, index in sources:  # in id order: the windows keep the most recent
                if id(cols) not in prices:
                    keep, currency, hs6, value = unit_price_rows(cols)
                    first = np.searchsorted(cols.item_owner, np.arange(cols.n + 1))
                    prices[id(cols)] = (keep, currency, hs6, value, first)
                keep, currency, hs6, value, first = prices[id(cols)]
                for row in range(int(first[index]), int(first[index + 1])):
                    if keep[row]:
                        self._observe(str(currency[row]), str(hs6[row]), float(value[row]))
        self._forget_notes()

    def _observe(self, currency: str, hs6: str, price: float) -> None:
        key = (currency, hs6)
        window = self._prices.get(key)
        if window is None:
            window = self._prices[key] = deque(maxlen=self.price_window)
        window.append(price)
        self._medians.pop(key, None)

    def _sources(self, rows: Sequence[Any]) -> list[tuple[Columns, int]]:
        """Per stored consignment (in the order given): the columns and index it is counted
        from, a noted batch's when it holds exactly what is stored, else its decoded document."""
        out: list[tuple[Columns | None, int]] = []
        decoded: list[RiskInput] = []
        with self._notes_lock:
            notes = [self._notes.get(r.id) for r in rows]
        for r, note in zip(rows, notes, strict=True):
            if note is not None:
                cols, index = note
                noted = cols.inputs[index]
                if (
                    noted.filer == r.name
                    and noted.filer_role == r.role
                    and noted.legal_date == _day(r.legal_date)
                    and encode(noted.document) == r.document.encode()
                ):
                    out.append((cols, index))
                    self.noted_hits += 1
                    continue
            out.append((None, len(decoded)))
            decoded.append(_input(r))
        if not decoded:
            return [(cols, index) for cols, index in out if cols is not None]
        read = Columns(decoded)
        return [(cols if cols is not None else read, index) for cols, index in out]

    def _forget_notes(self) -> None:
        """Drop the notes the listing has used or can no longer list as new."""
        tail = self._consignments
        floor = tail.mark_ms - tail.lag_ms
        with self._notes_lock:
            gone = [i for i in self._notes if i in tail.recent or _id_ms(i) < floor]
            for i in gone:
                del self._notes[i]

    def _read_inspections(self, conn: Any) -> None:
        fresh = self._fresh(conn, t.inspections, self._inspections)
        for chunk in _chunks(fresh):
            self._count_inspections(conn, chunk, self._kinds)

    def _count_inspections(self, conn: Any, ids: Sequence[str], kinds: Collection[str]) -> None:
        i = t.inspections
        self.queries += 1
        outcomes = conn.execute(select(i.c.consignment_id, i.c.found).where(i.c.id.in_(ids))).all()
        self.queries += 1
        inputs = stored_inputs(conn, [o[0] for o in outcomes])
        if not inputs:
            return
        cols = Columns(inputs)
        index = {r.consignment_id: n for n, r in enumerate(inputs)}
        self._count(
            [(cols, index[cid], 0, 1, int(found)) for cid, found in outcomes if cid in index],
            kinds,
        )

    def _count(
        self, counted: Sequence[tuple[Columns, int, int, int, int]], kinds: Collection[str]
    ) -> None:
        """Add (seen, inspected, irregular) per consignment (given by its columns and index)
        to the keys of `kinds` of its item rows."""
        if not kinds:
            return
        by_columns: dict[int, tuple[Columns, list[tuple[int, int, int, int]]]] = {}
        for cols, index, seen, inspected, irregular in counted:
            by_columns.setdefault(id(cols), (cols, []))[1].append(
                (index, seen, inspected, irregular)
            )
        for cols, parts in by_columns.values():
            weights = np.zeros((cols.n, 3), dtype=np.int64)
            for index, seen, inspected, irregular in parts:
                weights[index] += (seen, inspected, irregular)
            per_row = weights[cols.item_owner]
            rows = np.flatnonzero(per_row.any(axis=1))
            if not len(rows):
                continue
            uniform = (per_row[rows] == per_row[rows[0]]).all()
            for kind, keys in entity_keys(cols, kinds).items():
                table = self._counts.setdefault(kind, {})
                if uniform:  # the usual case: one weight for every row, counted per distinct key
                    w = per_row[rows[0]].tolist()
                    tally = Counter(keys[rows].tolist())
                    for key, times in tally.items():
                        if not key:
                            continue
                        counts = table.get(key)
                        if counts is None:
                            counts = table[key] = [0, 0, 0]
                        counts[0] += w[0] * times
                        counts[1] += w[1] * times
                        counts[2] += w[2] * times
                    continue
                for row in rows:
                    key = keys[row]
                    if not key:
                        continue
                    counts = table.get(key)
                    if counts is None:
                        counts = table[key] = [0, 0, 0]
                    for j, w in enumerate(per_row[row].tolist()):
                        counts[j] += w


def stored_rows(conn: Any, ids: Sequence[str]) -> list[Any]:
    """Stored consignments (not pre-loading only) with their owning operator, in the order of
    `ids`. At most `_CHUNK` ids per call."""
    c, o = t.consignments, t.operators
    rows = conn.execute(
        select(c.c.id, c.c.document, c.c.legal_date, o.c.name, o.c.role)
        .join(o, o.c.id == c.c.owner_id)
        .where(c.c.id.in_(sorted(set(ids))), c.c.data_set != "pre_loading")
    ).all()
    found = {r.id: r for r in rows}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def _input(row: Any) -> RiskInput:
    return RiskInput(row.id, _DOC.decode(row.document), _day(row.legal_date), row.name, row.role)


def stored_inputs(conn: Any, ids: Sequence[str]) -> list[RiskInput]:
    """Stored consignments (not pre-loading only) as risk inputs, in the order of `ids`; the
    filer is the owning operator. At most `_CHUNK` ids per call."""
    return [_input(r) for r in stored_rows(conn, ids)]


def latest_outcomes(engine: Engine) -> dict[str, int]:
    """Consignment id -> its latest inspection outcome (1 found), ordered by that inspection."""
    i = t.inspections
    latest: dict[str, int] = {}
    with engine.connect() as conn:
        for cid, found in conn.execute(
            select(i.c.consignment_id, i.c.found).order_by(i.c.at, i.c.id)
        ):
            latest.pop(cid, None)  # re-inserted: ordered by the latest inspection
            latest[cid] = int(bool(found))
    return latest


def inspection_outcomes(engine: Engine) -> tuple[list[RiskInput], list[int]]:
    """Inspected consignments and their latest outcome (1 = irregularity found), in the order
    of their latest inspection: the labels `clearway risk retrain` learns from."""
    latest = latest_outcomes(engine)
    with engine.connect() as conn:
        ids = list(latest)
        inputs: list[RiskInput] = []
        for chunk in _chunks(ids):
            inputs += stored_inputs(conn, chunk)
    return inputs, [latest[r.consignment_id] for r in inputs]


def recent_consignments(engine: Engine, days: int, limit: int = 100_000) -> list[RiskInput]:
    """Consignments with a legal date in the last `days` days of stored traffic (newest first,
    at most `limit`): the recent population a drift report scores."""
    c = t.consignments
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(c.c.legal_date))).scalar()
        if newest is None:
            return []
        since = _day(newest) - timedelta(days=days - 1)
        ids = list(
            conn.execute(
                select(c.c.id)
                .where(c.c.legal_date >= since, c.c.data_set != "pre_loading")
                .order_by(c.c.id.desc())
                .limit(limit)
            ).scalars()
        )
        inputs: list[RiskInput] = []
        for chunk in _chunks(ids):
            inputs += stored_inputs(conn, chunk)
    return inputs


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
