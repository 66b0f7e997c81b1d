"""Typed errors. Edges (HTTP, CLI) map them to problem documents and exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field


class ClearwayError(Exception):
    """Base of every error the product raises on purpose; `problems` locate what is at fault."""

    problem_type: str = "error"
    status: int = 400
    problems: list[Problem]

    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


class DomainError(ClearwayError):
    """A rule of the domain was broken by the request."""

    problem_type = "domain-rule"
    status = 422


class NotFound(ClearwayError):
    problem_type = "not-found"
    status = 404


class Conflict(ClearwayError):
    problem_type = "conflict"
    status = 409


class Forbidden(ClearwayError):
    problem_type = "forbidden"
    status = 403


class Unauthorized(ClearwayError):
    problem_type = "unauthorized"
    status = 401


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input, located by a JSON-pointer-like path (`items/0/hs_code`)."""

    path: str
    code: str
    message: str
    severity: str = "error"  # "error" rejects the filing; "warning" is kept as a risk reason


@dataclass
class InvalidInput(ClearwayError):
    """An input failed validation; carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)
    detail: str = "the input is not valid"
    problem_type = "invalid-input"
    status = 422

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)
