"""Suggestions as JSON-ready builtins (the API, the CLI and the quote share one shape)."""

from __future__ import annotations

from clearway.classification import nomenclature as nom
from clearway.classification.classifier import Candidate, Suggestion


def path_json(code: str) -> list[dict[str, str]]:
    """Section → chapter → heading → subheading of a code."""
    return [
        {"level": n.level, "code": n.code, "description": n.description} for n in nom.path(code)
    ]


def candidate_json(c: Candidate) -> dict[str, object]:
    return {
        "code": c.code,
        "score": c.score,
        "description": c.description,
        "path": path_json(c.code),
        "national": [
            {"code": n.code, "description": n.description, "score": n.score} for n in c.national
        ],
    }


def suggestion_json(s: Suggestion) -> dict[str, object]:
    return {
        "description": s.text,
        "destination": s.destination,
        "model": s.model,
        "suggestions": [candidate_json(c) for c in s.candidates],
    }
