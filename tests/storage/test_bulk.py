"""Bulk inserts store exactly what SQLAlchemy Core stores, and the binary COPY's column types
are the types the migrations create."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from clearway.storage import tables as t
from clearway.storage.bulk import bulk_insert, insert_values, pg_binary_type
from clearway.storage.engine import make_engine
from clearway.storage.migrate import upgrade
from clearway.storage.tables_audit import audit_records
from clearway.storage.tables_queue import outbox

# every table the hot path writes through storage/bulk.py
BULK_TABLES = (t.consignments, t.filings, t.events, t.notices, audit_records, outbox)

_scratch = MetaData()
every_type = Table(
    "bulk_every_type",
    _scratch,
    Column("n", Integer, primary_key=True),
    Column("name", String(40), unique=True),
    Column("body", Text),
    Column("big", BigInteger),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("data", JSON),
)

_JSON = '{"a":[1,"\\\\",null],"b":{"c":"' + "x" * 3000 + '"}}'
_AWKWARD = 'tab\there, new\nline, back\\slash, "quotes", \r, Müller, 漢字, \u202e, 😀'


def _rows(first: int, core: bool) -> list[dict[str, Any]]:
    """Three rows; a JSON value the hot path hands over already encoded (text), as Core would
    be handed it parsed."""
    at = datetime(2026, 11, 2, 9, 0, 1, 123456, tzinfo=UTC)
    return [
        {
            "n": first,
            "name": f"row {first}",
            "body": _AWKWARD,
            "big": 2**40,
            "flag": True,
            "day": date(2026, 11, 2),
            "at": at,
            "data": json.loads(_JSON) if core else _JSON,
        },
        {
            "n": first + 1,
            "name": f"row {first + 1}",
            "body": "",
            "big": -1,
            "flag": False,
            "day": date(1999, 12, 31),
            "at": at.astimezone(timezone(timedelta(hours=-5))),  # the same instant elsewhere
            "data": {"x": "a\tb", "y": 1},
        },
        {
            "n": first + 2,
            "name": None,
            "body": None,
            "big": None,
            "flag": None,
            "day": None,
            "at": None,
            "data": None,
        },
    ]


def test_bulk_insert_reads_back_as_a_core_insert(db_url: str) -> None:
    engine = make_engine(db_url)
    _scratch.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(every_type), _rows(1, core=True))
            bulk_insert(conn, every_type, _rows(11, core=False))
        with engine.connect() as conn:
            got = {r["n"]: dict(r) for r in conn.execute(select(every_type)).mappings()}
        assert len(got) == 6
        for n in (1, 2, 3):
            core, bulk = dict(got[n]), dict(got[n + 10])
            for row in (core, bulk):
                row.pop("n")
                row.pop("name")
            assert bulk == core
        assert got[11]["body"] == _AWKWARD and len(got[11]["data"]["b"]["c"]) == 3000
    finally:
        _scratch.drop_all(engine)
        engine.dispose()


def test_a_duplicate_key_is_an_integrity_error_and_rolls_back(db_url: str) -> None:
    engine = make_engine(db_url)
    _scratch.create_all(engine)
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            insert_values(conn, every_type, ("n", "name"), [[1, "a"], [2, "b"]])
            insert_values(conn, every_type, ("n", "name"), [[3, "a"]])
        with engine.connect() as conn:
            assert conn.execute(select(every_type)).all() == []
    finally:
        _scratch.drop_all(engine)
        engine.dispose()


def test_binary_copy_types_are_the_migrated_columns(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    try:
        with engine.connect() as conn:
            for table in BULK_TABLES:
                stored = dict(
                    conn.execute(
                        text(
                            "SELECT a.attname, ty.typname FROM pg_attribute a "
                            "JOIN pg_type ty ON ty.oid = a.atttypid "
                            "WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 "
                            "AND NOT a.attisdropped"
                        ),
                        {"t": table.name},
                    ).all()
                )
                for column in table.c:
                    sent = pg_binary_type(table, column.name)
                    assert sent is not None, (table.name, column.name)
                    want = "json" if isinstance(column.type, JSON) else sent
                    assert stored[column.name] == want, (table.name, column.name)
    finally:
        engine.dispose()
