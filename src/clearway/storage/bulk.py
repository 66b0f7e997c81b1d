"""Bulk inserts for the hot path: DBAPI executemany on SQLite, binary COPY on PostgreSQL.

SQLAlchemy's per-row parameter processing costs more than the database's own work when a batch
writes thousands of rows, so the pipeline's inserts go straight to the driver. Values are adapted
here exactly as SQLAlchemy would store them, so the tables read back the same either way.

PostgreSQL receives the rows as a binary COPY: each value is sent as its bytes with a length,
where the text format would have the client escape (and the server unescape) every backslash,
tab and newline of every JSON text, several times the cost for the large texts the pipeline
stores. The binary format names each column's type (`pg_type`): it is taken from the table's
SQLAlchemy type, which `tests/storage/test_bulk.py` checks against what the migrations create;
a column of any other type sends the whole insert through the text format instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.exc import IntegrityError

_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for SQLite DATETIME


def _json_text(value: Any) -> Any:
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


def _sqlite_datetime() -> Any:
    """SQLAlchemy's text for a DATETIME (the wall time, its zone dropped); a batch's rows share
    a handful of instants, and strftime costs more than a dictionary look-up. Keyed by the
    zone too: one instant written in two zones has two wall times."""
    seen: dict[tuple[Any, Any], str] = {}

    def text(value: Any) -> str:
        key = (value, value.tzinfo)
        found = seen.get(key)
        if found is None:
            found = seen[key] = value.strftime(_SQLITE_DATETIME)
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


def pg_binary_type(table: Table, name: str) -> str | None:
    """The PostgreSQL type (`pg_type.typname`) a binary COPY sends for a column, None when
    this module does not send that type in binary. JSON goes as `text`: the binary form of
    `json` is its text (a `jsonb` column would need a version byte: not sent in binary)."""
    col_type = table.c[name].type
    if isinstance(col_type, JSON):
        return "text"
    if isinstance(col_type, BigInteger):
        return "int8"
    if isinstance(col_type, Integer):
        return "int4"
    if isinstance(col_type, Boolean):
        return "bool"
    if isinstance(col_type, DateTime):
        return "timestamptz" if col_type.timezone else "timestamp"
    if isinstance(col_type, Date):
        return "date"
    if isinstance(col_type, Text):
        return "text"
    if isinstance(col_type, String):
        return "varchar"
    return None


def insert_values(
    conn: Connection, table: Table, columns: Sequence[str], values: list[list[Any]]
) -> None:
    """Insert rows given as value lists in `columns` order (the lists are adapted in place).

    The form the hot path builds directly: no dictionary per row. A constraint violation
    surfaces as SQLAlchemy's IntegrityError, as it would through Core.
    """
    if not values:
        return
    driver_integrity = conn.dialect.loaded_dbapi.IntegrityError
    try:
        _insert(conn, table, list(columns), values)
    except driver_integrity as exc:
        raise IntegrityError(f"bulk insert into {table.name}", None, exc) from exc


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in one round trip; rows must all have the same keys.

    A constraint violation surfaces as SQLAlchemy's IntegrityError, as it would through Core.
    """
    if not rows:
        return
    columns = list(rows[0])
    getter: Callable[[dict[str, Any]], Any] = itemgetter(*columns)
    if len(columns) == 1:
        values = [[getter(row)] for row in rows]
    else:
        values = [list(getter(row)) for row in rows]
    insert_values(conn, table, columns, values)


def _insert(conn: Connection, table: Table, columns: list[str], values: list[list[Any]]) -> None:
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        conn.execute(insert(table), [dict(zip(columns, v, strict=True)) for v in values])
        return
    for i, fn in _adapters(table, columns, dialect):
        for row in values:
            if row[i] is not None:
                row[i] = fn(row[i])
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)
            return
        types = [pg_binary_type(table, name) for name in columns]
        binary = all(types)
        how = " (FORMAT BINARY)" if binary else ""
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN{how}') as copy:
            if binary:
                copy.set_types(types)
            for row in values:
                copy.write_row(row)
    finally:
        cursor.close()
