"""Open a Parquet snapshot for a period: the day folders in range, as DuckDB views.

The period selects day partitions by name, so a query over a month reads that month's files only.
A table without files in the period is an empty view with the snapshot schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from clearway.kernel.errors import DomainError, NotFound
from clearway.statistics import schema as s


class NotASnapshot(NotFound):
    problem_type = "snapshot-not-found"


@dataclass(frozen=True, slots=True)
class Period:
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise DomainError(f"period start {self.since} is after its end {self.until}")

    def contains(self, day: date) -> bool:
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )

    def label(self) -> str:
        if self.since is None and self.until is None:
            return "everything stored"
        return f"{self.since or '…'} to {self.until or '…'}"


def parse_period(text: str | None) -> Period:
    """`2026-11-02`, `2026-11-01..2026-11-30`, `2026-11` (a month), `..2026-11-30`, or None."""
    if not text:
        return Period()
    try:
        if ".." in text:
            a, b = text.split("..", 1)
            start = date.fromisoformat(a) if a else None
            return Period(start, date.fromisoformat(b) if b else None)
        if len(text) == 7:  # YYYY-MM
            first = date.fromisoformat(f"{text}-01")
            nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return Period(first, date.fromordinal(nxt.toordinal() - 1))
        day = date.fromisoformat(text)
        return Period(day, day)
    except ValueError:
        raise DomainError(
            f"period {text!r}: use YYYY-MM-DD, YYYY-MM or FROM..TO with ISO dates"
        ) from None


class Snapshot:
    """A snapshot folder, restricted to a period, with one DuckDB view per table."""

    def __init__(self, root: Path, period: Period | None = None, threads: int | None = None):
        self.root = Path(root)
        if not (self.root / s.MANIFEST).is_file():
            raise NotASnapshot(f"{root} is not a snapshot (no {s.MANIFEST}); run `clearway export`")
        self.manifest: dict[str, Any] = json.loads((self.root / s.MANIFEST).read_text("utf-8"))
        self.period = period or Period()
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads TO {int(threads)}")
        for table, schema in s.TABLES.items():
            files = self.files(table)
            if files:
                listing = ", ".join("'" + f.as_posix().replace("'", "''") + "'" for f in files)
                self.con.execute(
                    f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{listing}], "
                    "hive_partitioning = false)"
                )
            else:
                self.con.register(f"_{table}_empty", pa.Table.from_pylist([], schema=schema))
                self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM _{table}_empty")

    @property
    def reporting_currency(self) -> str:
        return str(self.manifest.get("reporting_currency", "EUR"))

    def days(self, table: str = "consignments") -> list[date]:
        out = []
        folder = self.root / table
        for d in sorted(folder.glob("day=*")) if folder.is_dir() else []:
            day = date.fromisoformat(d.name.removeprefix("day="))
            if self.period.contains(day):
                out.append(day)
        return out

    def files(self, table: str) -> list[Path]:
        return [f for day in self.days(table) for f in self.day_files(table, day)]

    def day_files(self, table: str, day: date) -> list[Path]:
        return sorted((self.root / s.partition_dir(table, day.isoformat())).glob("*.parquet"))

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
