"""Quotes for goods described without an HS code: the code comes from the classifier.

Each item that has a description and no HS code is quoted on the classifier's best subheading
(or on the one the shopper picked from the top five); its quote line says so with the note
"based on suggested code", the code's path in the nomenclature and the alternatives. A
subheading whose national lines carry different rates is quoted at the highest of them, and
the trace says so, as for any 6-digit code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import cast

import msgspec

from clearway.classification.classifier import Classifier, Suggestion
from clearway.classification.report import candidate_json, path_json
from clearway.domain.filing import FilingDocument
from clearway.kernel.clock import Clock
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.quote import quote_document

NOTE = "based on suggested code"
FLAG = "hs_code_suggested"


@dataclass(frozen=True, slots=True)
class SuggestedCode:
    item: int
    suggestion: Suggestion
    chosen: str  # the code the quote is computed on


def suggest_missing_codes(
    doc: FilingDocument, classifier: Classifier, chosen: Mapping[int, str] | None = None
) -> tuple[FilingDocument, list[SuggestedCode]]:
    """`doc` with a code on every described item that had none (`chosen` picks per item
    index, else the best suggestion), and what was suggested."""
    chosen = chosen or {}
    todo = [
        i
        for i, it in enumerate(doc.items)
        if (not it.hs_code or i in chosen) and it.description.strip(" -")
    ]
    if not todo:
        return doc, []
    found = classifier.suggest_many(
        [doc.items[i].description for i in todo], doc.destination_country
    )
    items = list(doc.items)
    out: list[SuggestedCode] = []
    for i, suggestion in zip(todo, found, strict=True):
        best = suggestion.best
        code = chosen.get(i) or (best.code if best else None)
        if code is None:
            continue
        items[i] = msgspec.structs.replace(items[i], hs_code=code)
        out.append(SuggestedCode(i, suggestion, code))
    return msgspec.structs.replace(doc, items=items), out


def quote_suggesting(
    doc: FilingDocument,
    classifier: Classifier,
    legal_date: date | None = None,
    assessor: PackAssessor | None = None,
    clock: Clock | None = None,
    chosen: Mapping[int, str] | None = None,
) -> dict[str, object]:
    """`quote_document` on `doc` with suggested codes filled in and explained per line."""
    filled, suggested = suggest_missing_codes(doc, classifier, chosen)
    return explain(quote_document(filled, legal_date, assessor, clock), suggested)


def explain(quote: dict[str, object], suggested: list[SuggestedCode]) -> dict[str, object]:
    """Mark the quote lines computed on a suggested code: the note, the code's path and the
    alternatives (best first)."""
    if not suggested:
        return quote
    lines = cast(list[dict[str, object]], quote["lines"])
    for s in suggested:
        lines[s.item]["suggested"] = {
            "note": NOTE,
            "code": s.chosen,
            "path": path_json(s.chosen),
            "model": s.suggestion.model,
            "alternatives": [candidate_json(c) for c in s.suggestion.candidates],
        }
    cast(list[str], quote["flags"]).append(FLAG)
    return quote
