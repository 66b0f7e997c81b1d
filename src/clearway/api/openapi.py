"""OpenAPI 3.1 pieces generated from the msgspec structs, so schema and code cannot drift."""

from __future__ import annotations

from typing import Any

import msgspec

from clearway.api import schemas
from clearway.api.views import PartyViewOut
from clearway.domain.filing import FilingDocument

_STRUCTS: tuple[type, ...] = (
    FilingDocument,
    schemas.ProblemDocument,
    schemas.FilingResultOut,
    schemas.BatchOut,
    schemas.ConsignmentOut,
    schemas.ArrivalIn,
    schemas.ArrivalsOut,
    schemas.ActionIn,
    schemas.PaymentIn,
    schemas.NoticesOut,
    schemas.Health,
    PartyViewOut,
)
REF = "#/components/schemas/{name}"


def components() -> dict[str, Any]:
    _, comps = msgspec.json.schema_components(_STRUCTS, ref_template=REF)
    return comps


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def inline_schema(kind: type) -> dict[str, Any]:
    """A self-contained JSON schema of a struct (no references to resolve)."""
    raw = msgspec.json.schema(kind)
    inlined: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    return inlined


def body_schema(name: str, *, array: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": _ref(name)} if array else _ref(name)
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


_ERROR_TEXT = {
    400: "Malformed body",
    401: "Missing or unknown API key",
    403: "Role not allowed",
    404: "Not found (or not yours)",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Wrong content type",
    422: "Invalid input: every problem listed with its path",
}


def responses(ok: dict[int, str], *errors: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {
        code: {"description": "OK", "content": {"application/json": {"schema": _ref(name)}}}
        for code, name in ok.items()
    }
    for code in errors:
        out[code] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": {"application/problem+json": {"schema": _ref("ProblemDocument")}},
        }
    return out
