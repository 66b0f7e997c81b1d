"""Bulk inserts for the hot path: DBAPI executemany on SQLite, COPY on PostgreSQL.

SQLAlchemy's per-row parameter processing costs more than the database's own work when a batch
writes thousands of rows, so the pipeline's inserts go straight to the driver. Values are adapted
here exactly as SQLAlchemy would store them, so the tables read back the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Table, insert
from sqlalchemy.exc import IntegrityError

_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for SQLite DATETIME


def _json_text(value: Any) -> Any:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def _sqlite_datetime() -> Any:
    """SQLAlchemy's text for a DATETIME; a batch's rows share a handful of instants, and
    strftime costs more than a dictionary look-up."""
    seen: dict[Any, str] = {}

    def text(value: Any) -> str:
        found = seen.get(value)
        if found is None:
            found = seen[value] = value.strftime(_SQLITE_DATETIME)
        return found

    return text


def _adapters(table: Table, columns: Sequence[str], dialect: str) -> list[tuple[int, Any]]:
    """Per-column conversions, chosen once per insert from the column types."""
    out: list[tuple[int, Any]] = []
    for i, name in enumerate(columns):
        col_type = table.c[name].type
        if isinstance(col_type, JSON):
            out.append((i, _json_text))
        elif dialect != "sqlite":
            continue
        elif isinstance(col_type, DateTime):
            out.append((i, _sqlite_datetime()))
        elif isinstance(col_type, Date):
            out.append((i, date.isoformat))
        elif isinstance(col_type, Boolean):
            out.append((i, int))
    return out


def _tuples(
    table: Table, rows: Sequence[dict[str, Any]], dialect: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    columns = list(rows[0])
    getter = itemgetter(*columns)
    adapt = _adapters(table, columns, dialect)
    if len(columns) == 1:
        raw = [[getter(row)] for row in rows]
    else:
        raw = [list(getter(row)) for row in rows]
    for values in raw:
        for i, fn in adapt:
            if values[i] is not None:
                values[i] = fn(values[i])
    return columns, [tuple(v) for v in raw]


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in one round trip; rows must all have the same keys.

    A constraint violation surfaces as SQLAlchemy's IntegrityError, as it would through Core.
    """
    if not rows:
        return
    driver_integrity = conn.dialect.loaded_dbapi.IntegrityError
    try:
        _insert(conn, table, rows)
    except driver_integrity as exc:
        raise IntegrityError(f"bulk insert into {table.name}", None, exc) from exc


def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        conn.execute(insert(table), list(rows))
        return
    columns, values = _tuples(table, rows, dialect)
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)
        else:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row)
    finally:
        cursor.close()
