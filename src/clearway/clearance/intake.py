"""Intake: bytes in any supported format → pipeline submissions.

Canonical JSON (an object, an array, JSON Lines) takes the fast path (typed msgspec decode);
EU H7 XML, China CEB XML and CSV go through the format adapters in `clearway.ingestion`.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from clearway.clearance.pipeline import Submission
from clearway.domain.filing import FilingDocument, decode_filing
from clearway.domain.structural import decode_problems
from clearway.ingestion.detect import detect, parse
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.errors import Problem
from clearway.kernel.strict_json import json_problems, too_deep


def submission(raw: bytes) -> Submission:
    strict = json_problems(raw, FilingDocument)
    if strict:
        return Submission(None, strict)
    try:
        return Submission(decode_filing(raw))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return Submission(None, decode_problems(raw))


def split_records(content: bytes) -> Iterator[bytes]:
    """The JSON records in a file: one object, an array of objects, or one object per line."""
    head = content.lstrip()[:1]
    if head == b"[":
        if too_deep(content):
            yield content  # reported as too deep by the strict reading
            return
        try:
            parts = msgspec.json.decode(content, type=list[msgspec.Raw])
        except (msgspec.DecodeError, msgspec.ValidationError):
            yield content  # reported as malformed by the decoder
            return
        for part in parts:
            yield bytes(part)
        return
    lines = [ln for ln in content.split(b"\n") if ln.strip()]
    if len(lines) > 1 and not too_deep(lines[0]) and _is_json(lines[0]):
        # JSON Lines: the first line is a whole JSON value (a pretty-printed object's is not);
        # each line's depth is checked by its own strict reading, not the whole file's at once
        yield from lines
        return
    yield content  # one object: its strict reading checks the depth first


def _is_json(line: bytes) -> bool:
    try:
        msgspec.json.decode(line)
    except msgspec.DecodeError:
        return False
    return True


def read_submissions(content: bytes) -> Iterator[Submission]:
    """Canonical JSON records, decoded on the fast path."""
    for raw in split_records(content):
        if not raw.strip():
            yield Submission(None, [Problem("/", "empty", "empty record")])
            continue
        yield submission(raw)


def from_record(record: ParsedRecord, fmt: str) -> Submission:
    return Submission(
        record.document,
        list(record.problems),
        fmt,
        record.role,
        record.kind
        if record.kind in ("order", "payment", "waybill", "inventory")
        else "declaration",
        record.action,
        record.filer_reference,
    )


def read_content(content: bytes, fmt: str | None = None) -> tuple[str, list[Submission]]:
    """Submissions from one file's bytes in any supported format (FormatError if unreadable)."""
    name = fmt or detect(content)
    if name in ("json", "jsonl"):
        return name, list(read_submissions(content))
    batch = parse(content, name)
    return batch.format, [from_record(r, batch.format) for r in batch.records]
