"""Reading filings from files: a JSON object, a JSON array, or JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from clearway.clearance.pipeline import Submission
from clearway.domain.filing import decode_filing
from clearway.domain.validation import decode_problems
from clearway.kernel.errors import Problem


def submission(raw: bytes) -> Submission:
    try:
        return Submission(decode_filing(raw))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return Submission(None, decode_problems(raw))


def split_records(content: bytes) -> Iterator[bytes]:
    """The JSON records in a file: one object, an array of objects, or one object per line."""
    head = content.lstrip()[:1]
    if head == b"[":
        try:
            parts = msgspec.json.decode(content, type=list[msgspec.Raw])
        except (msgspec.DecodeError, msgspec.ValidationError):
            yield content  # reported as malformed by the decoder
            return
        for part in parts:
            yield bytes(part)
        return
    lines = [ln for ln in content.split(b"\n") if ln.strip()]
    if len(lines) > 1 and all(ln.lstrip()[:1] == b"{" for ln in lines[:2]):
        yield from lines
        return
    yield content


def read_submissions(content: bytes) -> Iterator[Submission]:
    for raw in split_records(content):
        if not raw.strip():
            yield Submission(None, [Problem("/", "empty", "empty record")])
            continue
        yield submission(raw)
