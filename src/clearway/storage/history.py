"""Risk history from the database: a `clearway.risk.history.HistoryProvider` over stored parcels.

- **Same-day totals** (split shipments) are read live, in one query per batch, through the
  `(consignee_key, legal_date)` index: they must include the parcel filed a second ago.
- **Entity counts** (seen / inspected / irregular per seller, consignee, HS6, description, the
  model's key groups …) and **reference unit prices** (median declared unit value per HS6 and
  currency over the most recent observations) are aggregates kept in process. They are brought
  up to date incrementally — one query for consignments stored since the last look, one for new
  inspection results — at most every `max_age` seconds, so a batch of 1,000 costs at most a few
  queries and usually none. Keys come from `clearway.risk.history_keys`, the same code risk uses
  to look them up, applied to the stored canonical documents.

Ids are time-ordered (`kernel.ids`), so "since the last look" is an id range on the primary key;
a trailing window of `lag` seconds is re-listed (ids only) so that a transaction committing late
is still counted, exactly once.
"""

from __future__ import annotations

import base64
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Engine, func, select

from clearway.domain.filing import FilingDocument
from clearway.domain.ports import RiskInput
from clearway.risk.columns import Columns
from clearway.risk.history import EntityStat, SameDayKey, SameDayTotal
from clearway.risk.history_keys import entity_keys, unit_prices
from clearway.storage import tables as t

_DOC = msgspec.json.Decoder(FilingDocument)
_CHUNK = 500  # bound IN (...) lists for both SQLite and PostgreSQL
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


_FROM_CROCKFORD = bytes.maketrans(
    b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)


def _id_ms(identifier: str) -> int:
    """The creation millisecond encoded at the front of a `kernel.ids` id."""
    body = identifier.split("_", 1)[1][:16].encode()  # 16 chars = 10 bytes, whole 5-byte groups
    return int.from_bytes(base64.b32decode(body.translate(_FROM_CROCKFORD))[:6], "big")


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
        self._prices: dict[tuple[str, str], deque[float]] = {}
        self._medians: dict[tuple[str, str], float] = {}
        self.queries = 0  # statements run, for tests and benchmarks

    # -- HistoryProvider ------------------------------------------------------------------------

    def entity_stats(self, kind: str, keys: Collection[str]) -> Mapping[str, EntityStat]:
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

    def _read_consignments(self, conn: Any) -> None:
        c = t.consignments
        self.queries += 1
        listed = conn.execute(
            select(c.c.id).where(c.c.id >= self._consignments.floor()).order_by(c.c.id)
        ).scalars()
        fresh = self._consignments.new_ids(listed)
        for chunk in _chunks(fresh):
            inputs = self._inputs(conn, chunk)
            if not inputs:
                continue
            columns = Columns(inputs)
            self._count(columns, seen=1)
            currency, hs6, value = unit_prices(columns)
            for cur, code, price in zip(currency, hs6, value, strict=True):
                key = (str(cur), str(code))
                window = self._prices.get(key)
                if window is None:
                    window = self._prices[key] = deque(maxlen=self.price_window)
                window.append(float(price))
                self._medians.pop(key, None)

    def _read_inspections(self, conn: Any) -> None:
        i = t.inspections
        self.queries += 1
        listed = conn.execute(
            select(i.c.id).where(i.c.id >= self._inspections.floor()).order_by(i.c.id)
        ).scalars()
        fresh = self._inspections.new_ids(listed)
        for chunk in _chunks(fresh):
            self.queries += 1
            outcomes = conn.execute(
                select(i.c.consignment_id, i.c.found).where(i.c.id.in_(chunk))
            ).all()
            inputs = {r.consignment_id: r for r in self._inputs(conn, [o[0] for o in outcomes])}
            for cid, found in outcomes:
                if cid in inputs:
                    self._count(Columns([inputs[cid]]), seen=0, inspected=1, irregular=int(found))

    def _inputs(self, conn: Any, ids: Sequence[str]) -> list[RiskInput]:
        self.queries += 1
        return stored_inputs(conn, ids)

    def _count(
        self, columns: Columns, *, seen: int, inspected: int = 0, irregular: int = 0
    ) -> None:
        for kind, keys in entity_keys(columns).items():
            table = self._counts.setdefault(kind, {})
            for key in keys:
                if not key:
                    continue
                counts = table.get(key)
                if counts is None:
                    counts = table[key] = [0, 0, 0]
                counts[0] += seen
                counts[1] += inspected
                counts[2] += irregular


def stored_inputs(conn: Any, ids: Sequence[str]) -> list[RiskInput]:
    """Stored consignments (not pre-loading only) as risk inputs, in the order of `ids`; the
    filer is the owning operator. At most `_CHUNK` ids per call."""
    c, o = t.consignments, t.operators
    rows = conn.execute(
        select(c.c.id, c.c.document, c.c.legal_date, o.c.name, o.c.role)
        .join(o, o.c.id == c.c.owner_id)
        .where(c.c.id.in_(sorted(set(ids))), c.c.data_set != "pre_loading")
    ).all()
    found = {
        r.id: RiskInput(r.id, _DOC.decode(r.document), _day(r.legal_date), r.name, r.role)
        for r in rows
    }
    return [found[i] for i in dict.fromkeys(ids) if i in found]


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
