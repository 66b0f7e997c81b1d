"""The strict reading of a JSON body, before the fast typed decode.

msgspec decodes quickly but leniently: duplicate keys (the last one wins), Python's own decimal
syntax (`"1_000"`, `"１２"`, `" 12 "`, `"1E+999999999"`), and nesting until the interpreter's
recursion limit. `json_problems` checks a body against one grammar first and reports every
breach with its path:

- nesting deeper than MAX_DEPTH (checked on the raw bytes, before any recursive parser runs);
- a key twice in one object;
- NaN and Infinity literals;
- a decimal field (by the target type's schema) that is not a plain decimal
  (`clearway.kernel.decimals.strict_decimal`), whether sent as a string or a number;
- a whole-number field with more digits than any quantity needs;
- a date or date-time field outside EARLIEST_DATE..LATEST_DATE;
- a control or direction character in any string, keys included
  (`clearway.kernel.characters`).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from typing import Any

import msgspec.inspect as mi

from clearway.kernel.characters import may_hold_unsafe, unsafe_character
from clearway.kernel.decimals import DecimalRefused, strict_decimal
from clearway.kernel.errors import Problem

MAX_DEPTH = 32  # a filing is 4 levels deep; a batch of them 5
MAX_INT_DIGITS = 15
EARLIEST_DATE = date(2000, 1, 1)  # before any legislation the packs carry
LATEST_DATE = date(2099, 12, 31)

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Does the JSON text nest arrays and objects deeper than `limit`?

    No recursion and no parse: each round strips empty pairs of brackets (outside strings), which
    removes at least the innermost level, at most two. So a body `limit` deep always passes and
    one more than twice as deep never does; mismatched brackets count as too deep (they are not
    JSON either)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return bool(brackets)


def depth_problem(body: bytes) -> Problem | None:
    if too_deep(body):
        return Problem("/", "too_deep", f"JSON nested deeper than {MAX_DEPTH} levels")
    return None


class _Number(str):
    """A JSON number literal, kept as written."""


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


class StrictJson:
    """A JSON text read under the grammar: its tree (numbers kept as written) or its problem."""

    def __init__(self, body: bytes) -> None:
        self.tree: Any = None
        self.problem = depth_problem(body)
        self._text = ""
        if self.problem is not None:
            return
        try:
            self._text = body.decode("utf-8")
            self.tree = json.loads(
                self._text,
                object_pairs_hook=_pairs,
                parse_float=_Number,
                parse_int=_Number,
                parse_constant=_constant,
            )
        except _Duplicate as dup:
            name = str(dup)[:40]
            self.problem = Problem(
                "/", "duplicate_key", f"the key {name!r} appears twice in one object"
            )
        except (ValueError, RecursionError) as exc:
            self.problem = Problem("/", "malformed_json", f"not valid JSON: {str(exc)[:120]}")
        self._unsafe = may_hold_unsafe(self._text)

    def problems(self, kind: Any = None, value: Any = None, prefix: str = "") -> list[Problem]:
        """The problems of the whole text, or of `value` (a part of the tree) read as `kind`."""
        if self.problem is not None:
            return [self.problem]
        out: list[Problem] = []
        shape = _schema(kind) if kind is not None else None
        _walk(self.tree if value is None else value, shape, prefix, out, self._unsafe)
        return out


def json_problems(body: bytes, kind: Any = None) -> list[Problem]:
    """Every breach of the grammar in `body`, read as `kind` (a msgspec type) when given."""
    return StrictJson(body).problems(kind)


# The schema compiled to what the walk needs: a struct's fields, a list's items, a leaf kind;
# pruned to the parts that hold something to check (None: nothing below needs a look).
_DECIMAL, _DATE, _DATETIME, _INT = "decimal", "date", "datetime", "int"
Shape = dict[str, Any] | list[Any] | str | None
_MISSING = object()


@cache
def _schema(kind: Any) -> Shape:
    return _shape(mi.type_info(kind))


def _shape(t: mi.Type) -> Shape:
    if isinstance(t, mi.UnionType):
        # Optional[X] and the like: the first member that has a shape (no union here mixes two)
        for member in t.types:
            found = _shape(member)
            if found is not None:
                return found
        return None
    if isinstance(t, mi.StructType):
        fields = {f.encode_name: _shape(f.type) for f in t.fields}
        kept = {k: v for k, v in fields.items() if v is not None}
        return kept or None
    if isinstance(t, mi.ListType | mi.SetType | mi.VarTupleType):
        inner = _shape(t.item_type)
        return None if inner is None else [inner]
    if isinstance(t, mi.DictType):
        inner = _shape(t.value_type)
        return None if inner is None else [inner]
    if isinstance(t, mi.DecimalType):
        return _DECIMAL
    if isinstance(t, mi.DateType):
        return _DATE
    if isinstance(t, mi.DateTimeType):
        return _DATETIME
    if isinstance(t, mi.IntType):
        return _INT
    return None


def _walk(value: Any, shape: Shape, path: str, out: list[Problem], text: bool) -> None:
    """Check the values the shape points at; with `text` (some string may hold an unsafe
    character), visit every value to find which."""
    if not text:
        _walk_shape(value, shape, path, out)
        return
    if type(value) is dict:
        fields = shape if isinstance(shape, dict) else None
        inner = shape[0] if isinstance(shape, list) else None
        for key, v in value.items():
            why = unsafe_character(key)
            if why:
                out.append(Problem(f"{path}/{ascii(key)[1:41]}", "unsafe_character", f"key {why}"))
            _walk(v, fields.get(key) if fields is not None else inner, f"{path}/{key}", out, text)
    elif type(value) is list:
        inner = shape[0] if isinstance(shape, list) else None
        for i, v in enumerate(value):
            _walk(v, inner, f"{path}/{i}", out, text)
    elif type(value) is str:
        why = unsafe_character(value)
        if why:
            out.append(Problem(path or "/", "unsafe_character", why))
        else:
            _leaf(value, shape, path, out)
    else:
        _leaf(value, shape, path, out)


def _walk_shape(value: Any, shape: Shape, path: str, out: list[Problem]) -> None:
    """Visit only where the shape has something to check (the common, clean case)."""
    if isinstance(shape, dict):
        if type(value) is dict:
            for key, inner in shape.items():
                v = value.get(key, _MISSING)
                if v is not _MISSING:
                    _walk_shape(v, inner, f"{path}/{key}", out)
    elif isinstance(shape, list):
        items = value if type(value) is list else None
        if items is None and type(value) is dict:
            items = list(value.values())
        for i, v in enumerate(items or ()):
            _walk_shape(v, shape[0], f"{path}/{i}", out)
    elif shape is not None:
        _leaf(value, shape, path, out)


def _leaf(value: Any, shape: Shape, path: str, out: list[Problem]) -> None:
    where = path or "/"
    if shape is _DECIMAL and isinstance(value, str):
        try:
            strict_decimal(value, negative=True)  # the sign is the domain's to judge
        except DecimalRefused as refused:
            out.append(Problem(where, refused.code, refused.detail))
    elif type(value) is _Number:
        if len(value.lstrip("-")) > MAX_INT_DIGITS:
            out.append(Problem(where, "range", f"at most {MAX_INT_DIGITS} digits"))
    elif (shape is _DATE or shape is _DATETIME) and type(value) is str:
        _date(value, shape, where, out)


def _date(text: str, shape: str, where: str, out: list[Problem]) -> None:
    try:
        if shape is _DATE:
            day = date.fromisoformat(text)
        else:
            day = datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return  # the typed decode names the format problem
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        out.append(
            Problem(where, "date_range", f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
        )
