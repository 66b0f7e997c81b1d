"""Problem documents (RFC 9457) for every error the API returns."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

import msgspec
from fastapi.responses import Response

from clearway.api.schemas import ProblemDocument, ProblemItem
from clearway.kernel.errors import Problem

PROBLEM_JSON = "application/problem+json"


def problem_type(slug: str) -> str:
    """Problem type URIs are relative: the app serves a description at /problems/{slug}."""
    return f"/problems/{slug}"


def problem_response(
    status: int,
    slug: str,
    detail: str | None = None,
    problems: Sequence[Problem] = (),
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    doc = ProblemDocument(
        type=problem_type(slug),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        problems=[ProblemItem(p.path, p.code, p.message, p.severity) for p in problems],
    )
    return Response(
        msgspec.json.encode(doc), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


PROBLEM_TYPES: dict[str, str] = {
    "invalid-input": "The input was understood but is not valid; `problems` lists every field "
    "at fault with a path, a code and a message.",
    "malformed": "The body is not parseable JSON (or not the declared format).",
    "unsupported-media-type": "Send `Content-Type: application/json`.",
    "payload-too-large": "The body is larger than the server accepts; split the batch.",
    "unauthorized": "Send `Authorization: Bearer <API key>`; keys come from "
    "`clearway keys create`.",
    "forbidden": "Your key's role does not allow this call.",
    "not-found": "No such resource, or it belongs to another operator.",
    "conflict": "The request conflicts with the current state (e.g. amending a released parcel).",
    "concurrent-update": "Another request changed the same parcel at the same moment; send again.",
    "illegal-transition": "The consignment's status does not allow this action now.",
    "domain-rule": "A business rule refused the request; `detail` says which.",
    "invalid-amount": "An amount is not a decimal string, or currencies were mixed.",
    "method-not-allowed": "This path does not accept this method.",
    "too-many-requests": "Too many requests from this key or address, or too many failed logins; "
    "wait the seconds `Retry-After` gives.",
    "error": "A request error.",
}
