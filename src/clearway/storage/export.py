"""Export the live database to a Parquet snapshot that the statistics read (never the live DB).

One folder per table, one sub-folder per legal date (`consignments/day=2026-11-02/…`); the
schema is `clearway.statistics.schema`. Consignments are selected by legal date (`since` and
`until` inclusive); their items, events, holds and documents go into the same day partition, so
a period of the snapshot is always complete. Rows stream from the database in chunks, so the
export runs in bounded memory.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from clearway.domain.assessment import Assessment
from clearway.domain.decision import Decision
from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import ClearwayError, DomainError
from clearway.kernel.money import quantum
from clearway.revenue.fx import FxTable, FxUnavailable, load_fx
from clearway.statistics import schema as s
from clearway.statistics.measures import value_band_currencies
from clearway.storage import tables as t

CHUNK = 20_000
# Currencies with value bands for the statistics (statistics/data/value_bands.yaml)
REPORTING_CURRENCIES = tuple(value_band_currencies())
_DOC = msgspec.json.Decoder(FilingDocument)
_DECISION = msgspec.json.Decoder(Decision)
_ASSESSMENT = msgspec.json.Decoder(Assessment)
_Q = Decimal(1).scaleb(-s.MONEY_SCALE)
_QMASS = Decimal("0.000001")
_ZERO = Decimal(0)
_TAX = ("vat", "consumption_tax", "excise")


class SnapshotFolderInUse(ClearwayError):
    """The output folder holds something that is not a snapshot: refuse to overwrite it."""

    problem_type = "snapshot-folder-in-use"
    status = 409


@dataclass(slots=True)
class ExportResult:
    out_dir: Path
    since: date | None
    until: date | None
    days: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def export(
    engine: Engine,
    out_dir: Path,
    since: date | None = None,
    until: date | None = None,
    *,
    reporting_currency: str = "EUR",
    fx: FxTable | None = None,
    chunk: int = CHUNK,
) -> ExportResult:
    """Write the consignments with a legal date in [since, until] (open ends: everything)."""
    if since is not None and until is not None and since > until:
        raise DomainError(f"--since {since} is after --until {until}")
    if reporting_currency not in REPORTING_CURRENCIES:
        raise DomainError(
            f"reporting currency {reporting_currency!r}: one of {', '.join(REPORTING_CURRENCIES)}"
        )
    started = time.perf_counter()
    _check_target(out_dir)
    # Write beside the target and swap only when complete: a failed export (database down,
    # disk full) leaves the previous snapshot, which dashboards read, untouched.
    work = out_dir.parent / f".{out_dir.name}.exporting"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        result = _Exporter(engine, work, reporting_currency, fx or load_fx(), chunk).run(
            since, until
        )
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result.out_dir = out_dir
    result.seconds = time.perf_counter() - started
    manifest = {
        "schema_version": s.SCHEMA_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "partitioned_by": "legal_date",
        "reporting_currency": reporting_currency,
        "days": result.days,
        "rows": result.rows,
    }
    (work / s.MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _swap(work, out_dir)
    return result


def _check_target(out_dir: Path) -> None:
    """An empty or missing folder, or a previous snapshot (to be replaced); else refused."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise SnapshotFolderInUse(f"{out_dir} is a file, not a folder")
        entries = list(out_dir.iterdir())
        if entries and not (out_dir / s.MANIFEST).is_file():
            raise SnapshotFolderInUse(
                f"{out_dir} is not empty and holds no snapshot ({s.MANIFEST}); choose another"
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)


def _swap(work: Path, out_dir: Path) -> None:
    previous = out_dir.parent / f".{out_dir.name}.previous"
    shutil.rmtree(previous, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(previous)
    work.rename(out_dir)
    shutil.rmtree(previous, ignore_errors=True)


def _money(value: Decimal | str | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(_Q, rounding=ROUND_HALF_EVEN)


def _mass(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(_QMASS, rounding=ROUND_HALF_EVEN)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Exporter:
    def __init__(
        self, engine: Engine, out: Path, reporting_currency: str, fx: FxTable, chunk: int
    ) -> None:
        self.engine = engine
        self.out = out
        self.rc = reporting_currency
        self.fx = fx
        self.chunk = chunk
        self.rows: dict[str, int] = dict.fromkeys(s.TABLES, 0)
        self.parts: dict[tuple[str, str], int] = {}
        self._rates: dict[tuple[str, date], Decimal | None] = {}
        self._minor = quantum(reporting_currency)

    def run(self, since: date | None, until: date | None) -> ExportResult:
        c = t.consignments.c
        query = select(c.legal_date).distinct().order_by(c.legal_date)
        if since is not None:
            query = query.where(c.legal_date >= since)
        if until is not None:
            query = query.where(c.legal_date <= until)
        with self.engine.connect() as conn:
            days = [d for (d,) in conn.execute(query)]
        for day in days:
            self._day(day)
        return ExportResult(self.out, since, until, [d.isoformat() for d in days], self.rows)

    # ------------------------------------------------------------------ one day
    def _day(self, day: date) -> None:
        c = t.consignments.c
        with self.engine.connect() as conn:
            conn = conn.execution_options(stream_results=True, yield_per=self.chunk)
            findings = self._inspections(conn, day)
            holds = list(
                conn.execute(
                    select(t.holds)
                    .join(t.consignments, t.consignments.c.id == t.holds.c.consignment_id)
                    .where(c.legal_date == day)
                ).mappings()
            )
            self._write("holds", day, [_hold_row(h, day) for h in holds])
            authority = {h["id"]: h["authority"] for h in holds}
            rows = conn.execute(
                select(t.consignments, t.operators.c.name.label("filer"))
                .join(t.operators, t.operators.c.id == c.owner_id)
                .where(c.legal_date == day)
                .order_by(c.id)
            ).mappings()
            for batch in _chunks(rows, self.chunk):
                self._consignments(batch, day, findings)
            events = conn.execute(
                select(t.events, c.office.label("declared_office"))
                .join(t.consignments, c.id == t.events.c.consignment_id)
                .where(c.legal_date == day)
                .order_by(t.events.c.id)
            ).mappings()
            for batch in _chunks(events, self.chunk):
                self._write("events", day, [_event_row(e, day, authority) for e in batch])

    def _inspections(self, conn: Any, day: date) -> dict[str, bool]:
        """Whether anything was found, per inspected consignment (any inspection finding)."""
        i = t.inspections.c
        out: dict[str, bool] = {}
        for cid, found in conn.execute(
            select(i.consignment_id, i.found)
            .join(t.consignments, t.consignments.c.id == i.consignment_id)
            .where(t.consignments.c.legal_date == day)
        ):
            out[cid] = out.get(cid, False) or bool(found)
        return out

    def _consignments(self, batch: Sequence[Any], day: date, findings: dict[str, bool]) -> None:
        cons: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        for row in batch:
            doc = _DOC.decode(row["document"])
            a = _ASSESSMENT.decode(row["assessment"]) if row["assessment"] else None
            d = _DECISION.decode(row["decision"]) if row["decision"] else None
            cons.append(self._consignment_row(row, doc, a, d, day, findings))
            items.extend(self._item_rows(row["id"], doc, a, day, cons[-1]["collection_model"]))
            docs.append(
                {
                    "consignment_id": row["id"],
                    "legal_date": day,
                    "filer": row["filer"],
                    "document": row["document"],
                }
            )
        self._write("consignments", day, cons)
        self._write("items", day, items)
        self._write("documents", day, docs)

    def _consignment_row(
        self,
        row: Any,
        doc: FilingDocument,
        a: Assessment | None,
        d: Decision | None,
        day: date,
        findings: dict[str, bool],
    ) -> dict[str, Any]:
        charges = _charges(a)
        ac = a.currency if a else None
        tax = sum((charges[k] for k in _TAX), Decimal(0)) if a else None
        return {
            "consignment_id": row["id"],
            "transport_document": row["transport_document"],
            "legal_date": day,
            "filed_at": row["created_at"],
            "status": row["status"],
            "payment_status": row["payment_status"],
            "data_set": row["data_set"],
            "mode": row["mode"],
            "destination_country": row["destination_country"],
            "dispatch_country": row["dispatch_country"],
            "office": row["office"],
            "filer": row["filer"],
            "platform": doc.platform.name if doc.platform else None,
            "seller": doc.seller.name if doc.seller else None,
            "category": doc.category,
            "currency": doc.currency,
            "intrinsic_value": _money(doc.intrinsic_value),
            "transport_cost": _money(doc.transport_cost),
            "insurance_cost": _money(doc.insurance_cost),
            "item_count": len(doc.items),
            "declared_collection_model": doc.collection_model,
            "registration_number": (doc.collection.registration_number if doc.collection else None),
            "collection_model": a.collection_model if a else row["collection_model"],
            "payable_by": a.payable_by if a else None,
            "jurisdiction": a.jurisdiction if a else None,
            "assessed_currency": ac,
            "customs_value": _money(a.customs_value) if a else None,
            **{k: (_money(charges[k]) if a else None) for k in s.CHARGES},
            "assessed_total": _money(a.total) if a else None,
            "due_at_border": _money(a.due_at_border) if a else None,
            "irg_category": a.irg_category if a else None,
            "reporting_currency": self.rc,
            "reporting_value": self._report(doc.intrinsic_value, doc.currency, day),
            "reporting_duty": self._report(charges["duty"], ac, day) if a else None,
            "reporting_tax": self._report(tax, ac, day) if a else None,
            "reporting_fees": self._report(charges["fees"], ac, day) if a else None,
            "reporting_total": self._report(a.total, ac, day) if a else None,
            "lane": d.lane if d else None,
            "referral": d.referral if d else None,
            "score": d.score if d else None,
            "model_version": d.model_version if d else None,
            "random_sample": bool(row["random_sample"]),
            "rule_codes": sorted({r.code for r in d.reasons if r.source == "rule"}) if d else [],
            "flags": list(a.flags) if a else [],
            "inspected": row["id"] in findings,
            "found": findings.get(row["id"]),
            "arrived_at": row["arrived_at"],
            "closed_at": row["closed_at"],
        }

    def _item_rows(
        self,
        cid: str,
        doc: FilingDocument,
        a: Assessment | None,
        day: date,
        collection_model: str | None,
    ) -> list[dict[str, Any]]:
        per_item: dict[int, dict[str, Decimal]] = {}
        ac = a.currency if a else None
        for charge in a.charges if a else []:
            if charge.item is not None:
                slot = per_item.setdefault(charge.item, dict.fromkeys(s.CHARGES, Decimal(0)))
                slot[_kind(charge.kind)] += charge.amount
        out = []
        zero = dict.fromkeys(s.CHARGES, Decimal(0))
        for n, item in enumerate(doc.items):
            hs = item.hs_code
            ch = per_item.get(n, zero)
            tax = sum((ch[k] for k in _TAX), Decimal(0))
            out.append(
                {
                    "consignment_id": cid,
                    "item_index": n,
                    "legal_date": day,
                    "destination_country": doc.destination_country,
                    "dispatch_country": doc.dispatch_country,
                    "mode": doc.mode,
                    "platform": doc.platform.name if doc.platform else None,
                    "collection_model": collection_model,
                    "description": item.description,
                    "hs_code": hs,
                    "hs_chapter": hs[:2] if hs else None,
                    "hs_heading": hs[:4] if hs else None,
                    "hs_subheading": hs[:6] if hs else None,
                    "quantity": item.quantity,
                    "currency": doc.currency,
                    "value": _money(item.value),
                    "origin_country": item.origin_country,
                    "net_mass_kg": _mass(item.net_mass_kg),
                    "assessed_currency": ac,
                    **{k: (_money(ch[k]) if a else None) for k in s.CHARGES},
                    "reporting_currency": self.rc,
                    "reporting_value": self._report(item.value, doc.currency, day),
                    "reporting_duty": self._report(ch["duty"], ac, day) if a else None,
                    "reporting_tax": self._report(tax, ac, day) if a else None,
                    "reporting_fees": self._report(ch["fees"], ac, day) if a else None,
                }
            )
        return out

    def _report(self, amount: Decimal | None, currency: str | None, day: date) -> Decimal | None:
        """`amount` in the reporting currency at the ECB rate of the legal date, rounded half-even
        to the reporting currency's minor unit; None when there is no rate."""
        if amount is None or currency is None:
            return None
        key = (currency, day)
        if key not in self._rates:
            try:
                self._rates[key] = self.fx.quote(currency, self.rc, day).rate
            except FxUnavailable:
                self._rates[key] = None
        rate = self._rates[key]
        if rate is None:
            return None
        if not amount:
            return _ZERO
        # the minor unit (at most 3 decimals) fits the 4-decimal column exactly
        return (amount * rate).quantize(self._minor, rounding=ROUND_HALF_EVEN)

    # ------------------------------------------------------------------ files
    def _write(self, table: str, day: date, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        key = (table, day.isoformat())
        part = self.parts.get(key, 0)
        self.parts[key] = part + 1
        folder = self.out / s.partition_dir(table, day.isoformat())
        folder.mkdir(parents=True, exist_ok=True)
        arrow = pa.Table.from_pylist(rows, schema=s.TABLES[table])
        pq.write_table(arrow, folder / f"part-{part:05d}.parquet", compression="zstd")
        self.rows[table] += len(rows)


def _kind(kind: str) -> str:
    return "fees" if kind == "fee" else kind if kind in s.CHARGES else "fees"


def _charges(a: Assessment | None) -> dict[str, Decimal]:
    out = dict.fromkeys(s.CHARGES, Decimal(0))
    for ch in a.charges if a else []:
        out[_kind(ch.kind)] += ch.amount
    return out


def _hold_row(h: Any, day: date) -> dict[str, Any]:
    return {
        "hold_id": h["id"],
        "consignment_id": h["consignment_id"],
        "legal_date": day,
        "authority": h["authority"],
        "reason": h["reason"],
        "placed_by": h["placed_by"],
        "placed_at": h["placed_at"],
        "lifted_by": h["lifted_by"],
        "lifted_at": h["lifted_at"],
    }


def _event_row(e: Any, day: date, hold_authority: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = e["data"] or {}
    kind = e["kind"]
    authority = None
    if kind in ("hold", "request_documents"):
        authority = str(data.get("authority") or "customs")
    elif kind == "lift_hold":
        lifted = [hold_authority[h] for h in data.get("holds", []) if h in hold_authority]
        authority = lifted[0] if lifted else None
    actor = str(e["actor"])
    return {
        "event_id": e["id"],
        "consignment_id": e["consignment_id"],
        "legal_date": day,
        "kind": kind,
        "at": e["at"],
        "actor": actor,
        "actor_role": actor.split(":", 1)[0],
        "from_status": e["from_status"],
        "to_status": e["to_status"],
        "authority": authority,
        "office": data.get("office") or e["declared_office"],
    }
