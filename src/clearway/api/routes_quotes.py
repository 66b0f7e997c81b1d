"""Landed-cost quotes: the same calculator as the pipeline, without an account."""

from __future__ import annotations

from typing import cast

import msgspec
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from clearway.api.deps import ServicesDep, read_body
from clearway.api.openapi import body_schema
from clearway.api.problems import PROBLEM_JSON
from clearway.domain.assessment import MANUAL_ASSESSMENT
from clearway.domain.filing import FilingDocument, decode_filing
from clearway.domain.structural import decode_problems
from clearway.domain.validation import check_quote
from clearway.kernel.errors import InvalidInput, Problem
from clearway.kernel.strict_json import json_problems
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.quote import quote_document
from clearway.revenue.suggested import quote_suggesting

router = APIRouter(tags=["quotes"])
_QUOTE_SCHEMA = {
    "type": "object",
    "required": ["jurisdiction", "legal_date", "currency", "irg_category", "total"],
    "additionalProperties": True,
}


@router.post(
    "/v1/quotes",
    summary="Duty and tax quote for one canonical filing document (no account needed)",
    openapi_extra={**body_schema("FilingDocument"), "security": []},
    responses={
        200: {
            "description": "The quote with its trace",
            "content": {"application/json": {"schema": _QUOTE_SCHEMA}},
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
async def quote(request: Request, svc: ServicesDep) -> Response:
    body = await read_body(request, 1024 * 1024)
    strict = json_problems(body, FilingDocument)
    if strict:
        raise InvalidInput(strict, "the document is not valid")
    try:
        doc = decode_filing(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise InvalidInput(decode_problems(body), "the document is not valid") from None
    errors = check_quote(doc, served=svc.assessor.jurisdictions())
    if errors:
        raise InvalidInput(errors, "the document cannot be quoted")
    assessor = svc.assessor if isinstance(svc.assessor, PackAssessor) else None
    if any(not it.hs_code for it in doc.items):
        # items described without a code are quoted on the suggested code, and say so
        classifier = await run_in_threadpool(svc.classifier.get)
        result = await run_in_threadpool(
            quote_suggesting, doc, classifier, None, assessor, svc.clock
        )
    else:
        result = await run_in_threadpool(quote_document, doc, None, assessor, svc.clock)
    if MANUAL_ASSESSMENT in cast(list[str], result.get("flags", [])):
        # no amount could be computed (e.g. no exchange rate for the currency): say why
        trace = cast(list[dict[str, str]], result.get("trace", []))
        why = next(
            (t["value"] for t in trace if t.get("name") == "assessment.fallback"),
            "the calculator could not compute this parcel",
        )
        raise InvalidInput([Problem("/", "not_quotable", why)], "the document cannot be quoted")
    return Response(msgspec.json.encode(result), media_type="application/json")
