"""What every format adapter returns: canonical filings plus the role and kind each one implies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import InvalidInput, Problem

Action = Literal["new", "amend", "cancel"]
FORMATS: tuple[str, ...] = ("json", "jsonl", "h7", "ceb", "csv")


@dataclass
class ParsedRecord:
    """One message (or one CSV filing) turned into a canonical filing, or the reasons it was not.

    `document` is None when the record was rejected or carries no goods data (an invalidation).
    `role` is the filer role the message implies (None when the filer's account decides: JSON, CSV).
    `action` says what to do with the filing: a new one, a new version (amend) or a withdrawal.
    `references` carries identifiers that have no place in the canonical filing (MRN, CEB guid,
    change reason codes, the declarant) and the keys that link legs of one consignment
    (`order_id`, `payment_id`, `transport_document`).
    """

    document: FilingDocument | None
    role: str | None
    kind: str
    source_ref: str
    problems: list[Problem] = field(default_factory=list)
    action: Action = "new"
    filer_reference: str | None = None
    references: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing rejects the record (warnings are kept as risk reasons)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass
class ParsedBatch:
    format: str
    records: list[ParsedRecord] = field(default_factory=list)

    @property
    def documents(self) -> list[FilingDocument]:
        return [r.document for r in self.records if r.document is not None]

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.records for p in r.problems]


class FormatError(InvalidInput):
    """A whole input was refused: unknown format, unsafe or malformed XML, unreadable text."""

    problem_type = "invalid-format"

    def __init__(self, code: str, message: str, path: str = "") -> None:
        super().__init__(problems=[Problem(path, code, message)], detail=message)


def match_keys(doc: FilingDocument) -> dict[str, str]:
    """The keys that link legs of one consignment (transport document, order id, payment id)."""
    keys: dict[str, str] = {}
    if doc.transport_document:
        keys["transport_document"] = doc.transport_document
    if doc.order and doc.order.id:
        keys["order_id"] = doc.order.id
    if doc.payment and doc.payment.id:
        keys["payment_id"] = doc.payment.id
    return keys
