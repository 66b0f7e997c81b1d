"""The structural pass: a raw JSON value walked against the filing schema, every type problem
with its path, for the documents the fast typed decode refused (the filer sees them all at once).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
import msgspec.inspect as mi

from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import Problem


def structural_problems(raw: Any) -> list[Problem]:
    """Every type problem of a raw JSON value against FilingDocument, with paths."""
    out: list[Problem] = []
    _check(raw, mi.type_info(FilingDocument), "", out)
    return out


def _check(value: Any, t: mi.Type, path: str, out: list[Problem]) -> None:
    where = path or "/"
    if isinstance(t, mi.UnionType):
        if value is None and any(isinstance(x, mi.NoneType) for x in t.types):
            return
        inner = [x for x in t.types if not isinstance(x, mi.NoneType)]
        if len(inner) == 1:
            _check(value, inner[0], path, out)
            return
        _check(value, inner[0], path, out)
        return
    if isinstance(t, mi.StructType):
        if not isinstance(value, dict):
            out.append(Problem(where, "type", "expected an object"))
            return
        known = {f.encode_name: f for f in t.fields}
        for key in value:
            if key not in known:
                out.append(Problem(f"{path}/{key}", "unknown_field", f"unknown field {key!r}"))
        for f in t.fields:
            if f.encode_name not in value:
                if f.required:
                    out.append(Problem(f"{path}/{f.encode_name}", "required", "is required"))
                continue
            _check(value[f.encode_name], f.type, f"{path}/{f.encode_name}", out)
        return
    if isinstance(t, mi.ListType):
        if not isinstance(value, list):
            out.append(Problem(where, "type", "expected an array"))
            return
        for i, v in enumerate(value):
            _check(v, t.item_type, f"{path}/{i}", out)
        return
    if isinstance(t, mi.LiteralType):
        if value not in t.values:
            allowed = ", ".join(str(v) for v in t.values)
            out.append(Problem(where, "enum", f"must be one of: {allowed}"))
        return
    if isinstance(t, mi.StrType):
        if not isinstance(value, str):
            out.append(Problem(where, "type", "expected a string"))
        return
    if isinstance(t, mi.IntType):
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(Problem(where, "type", "expected an integer"))
        return
    if isinstance(t, mi.DecimalType):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            out.append(Problem(where, "type", 'expected a decimal string such as "12.50"'))
            return
        try:
            if not Decimal(str(value)).is_finite():
                raise InvalidOperation
        except InvalidOperation:
            out.append(Problem(where, "type", 'expected a decimal string such as "12.50"'))
        return
    if isinstance(t, mi.DateType):
        if not isinstance(value, str) or not _parses(date.fromisoformat, value):
            out.append(Problem(where, "type", "expected a date YYYY-MM-DD"))
        return
    if isinstance(t, mi.DateTimeType):
        if not isinstance(value, str) or not _parses(datetime.fromisoformat, value):
            out.append(Problem(where, "type", "expected an RFC 3339 date-time"))
        return


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def decode_problems(body: bytes) -> list[Problem]:
    """Why a body that failed the typed decode is not a filing: every problem, with paths."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        return [Problem("/", "malformed_json", f"not valid JSON: {exc}")]
    problems = structural_problems(raw)
    return problems or [Problem("/", "type", "not a valid filing document")]
