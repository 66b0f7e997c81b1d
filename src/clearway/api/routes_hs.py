"""HS classification assistant: suggested codes for a product description (no account needed)."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.deps import ServicesDep, read_body
from clearway.api.problems import PROBLEM_JSON
from clearway.classification.report import suggestion_json
from clearway.kernel.codes import is_country
from clearway.kernel.errors import InvalidInput, Problem
from clearway.kernel.strict_json import json_problems

router = APIRouter(tags=["classification"])
MAX_DESCRIPTION = 2000
MAX_LIMIT = 10


class SuggestRequest(msgspec.Struct, forbid_unknown_fields=True):
    description: str
    destination: str | None = None
    limit: int = 5


_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["description"],
    "additionalProperties": False,
    "properties": {
        "description": {"type": "string", "minLength": 1, "maxLength": MAX_DESCRIPTION},
        "destination": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    },
}
_NODE = {
    "type": "object",
    "properties": {
        "level": {"type": "string"},
        "code": {"type": "string"},
        "description": {"type": "string"},
    },
}
_RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["description", "model", "suggestions"],
    "properties": {
        "description": {"type": "string"},
        "destination": {"type": ["string", "null"]},
        "model": {"type": "string"},
        "suggestions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "score", "description", "path", "national"],
                "properties": {
                    "code": {"type": "string"},
                    "score": {"type": "number"},
                    "description": {"type": "string"},
                    "path": {"type": "array", "items": _NODE},
                    "national": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}


def _request(body: bytes) -> SuggestRequest:
    strict = json_problems(body, SuggestRequest)
    if strict:
        raise InvalidInput(strict, "the request is not valid")
    try:
        req = msgspec.json.decode(body, type=SuggestRequest)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidInput(
            [Problem("/", "invalid", f"{exc}; send {{description, destination?, limit?}}")],
            "the request is not valid",
        ) from None
    problems = []
    if not req.description.strip():
        problems.append(Problem("/description", "required", "describe the goods"))
    elif len(req.description) > MAX_DESCRIPTION:
        problems.append(
            Problem("/description", "too_long", f"at most {MAX_DESCRIPTION} characters")
        )
    if req.destination is not None and not is_country(req.destination):
        problems.append(
            Problem("/destination", "unknown_country", "an ISO 3166 alpha-2 code, e.g. FR")
        )
    if not 1 <= req.limit <= MAX_LIMIT:
        problems.append(Problem("/limit", "out_of_range", f"between 1 and {MAX_LIMIT}"))
    if problems:
        raise InvalidInput(problems, "the request is not valid")
    return req


@router.post(
    "/v1/hs/suggest",
    summary="Suggested HS 2022 codes for a product description, with scores and paths",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _REQUEST_SCHEMA}},
        },
        "security": [],
    },
    responses={
        200: {
            "description": "Top subheadings (6 digits), best first, each with the destination's "
            "national lines where its pack has them",
            "content": {"application/json": {"schema": _RESPONSE_SCHEMA}},
        },
        **{
            code: {
                "description": "Problem",
                "content": {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
                },
            }
            for code in (400, 413, 415, 422)
        },
    },
)
async def suggest(request: Request, svc: ServicesDep) -> Response:
    req = _request(await read_body(request, 64 * 1024))
    classifier = await run_in_threadpool(svc.classifier.get)
    found = await run_in_threadpool(classifier.suggest, req.description, req.destination, req.limit)
    return Response(msgspec.json.encode(suggestion_json(found)), media_type="application/json")
