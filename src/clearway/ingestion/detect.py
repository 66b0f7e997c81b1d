"""One entry point for every format: detect it from the bytes (or take it as declared) and parse.

`parse(content, fmt)` returns a ParsedBatch of canonical filings, each with the filer role and
kind the message implies and its own problems. Whole-input failures (unknown format, unsafe or
malformed XML, unreadable CSV) raise FormatError, an InvalidInput.
"""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec

from clearway.domain.filing import FilingDocument
from clearway.ingestion import ceb, csv_filing, h7
from clearway.ingestion.records import FORMATS, FormatError, ParsedBatch, ParsedRecord, match_keys
from clearway.ingestion.xml_safety import MAX_BYTES, local, parse_xml
from clearway.kernel.errors import Problem
from clearway.kernel.strict_json import StrictJson, too_deep

MAX_JSON_RECORDS = 100_000
_JSON = msgspec.json.Decoder(float_hook=Decimal)  # amounts keep their exact decimal text
_PATH = re.compile(r"`\$((?:\.[A-Za-z_]\w*|\[\d+\])*)`")


def detect(content: bytes) -> str:
    """The format name of `content`: json, jsonl, h7, ceb or csv (FormatError when none fits)."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\xfe\xff \t\r\n")
    if head.startswith(b"<") or b"<\x00" in head[:4]:
        namespace = _root_namespace(content)
        if namespace == h7.NS:
            return "h7"
        if namespace == ceb.NS:
            return "ceb"
        raise FormatError(
            "format.unknown_xml",
            f"XML in namespace {namespace!r} is not accepted (EU DMS: {h7.NS}; China CEB: "
            f"{ceb.NS})",
            "/*",  # the root element's namespace is at fault
        )
    if head.startswith((b"{", b"[")):
        first_line = head.split(b"\n", 1)[0].strip()
        if head.startswith(b"{") and b"\n" in head.strip() and _is_json(first_line):
            return "jsonl"
        return "json"
    if b"," in head or b";" in head or b"\t" in head:
        return "csv"
    raise FormatError("format.unknown", "not JSON, JSON Lines, H7 XML, CEB XML or CSV")


def _is_json(line: bytes) -> bool:
    if too_deep(line):
        return False
    try:
        _JSON.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def _root_namespace(content: bytes) -> str:
    root = parse_xml(content)
    tag = root.tag if isinstance(root.tag, str) else ""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def parse(content: bytes, fmt: str | None = None, *, requests: bool = False) -> ParsedBatch:
    """Parse `content` in format `fmt` (detected when None) into canonical filings.

    `requests`: also read the CEB messages that ask something about a known parcel (return
    request, waybill status, warehouse entry) rather than file one (the message gateway)."""
    if len(content) > MAX_BYTES * 4:
        raise FormatError("format.too_large", f"the input is larger than {MAX_BYTES * 4} bytes")
    fmt = fmt.lower() if fmt else detect(content)
    if fmt not in FORMATS:
        raise FormatError("format.unknown", f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt == "json":
        return ParsedBatch(fmt, _json(content))
    if fmt == "jsonl":
        return ParsedBatch(fmt, _jsonl(content))
    if fmt == "csv":
        return ParsedBatch(fmt, csv_filing.parse(content))
    root = parse_xml(content)
    if fmt == "h7":
        if local(root) != "Declaration" or not str(root.tag).startswith(f"{{{h7.NS}}}"):
            raise FormatError("h7.root", "an H7 message is a DMS Declaration element")
        return ParsedBatch(fmt, h7.parse(root))
    if not str(root.tag).startswith(f"{{{ceb.NS}}}"):
        raise FormatError("ceb.root", f"a CEB message is in namespace {ceb.NS}")
    return ParsedBatch(fmt, ceb.parse(root, requests=requests))


def _problem_path(message: str, prefix: str) -> str:
    m = _PATH.search(message)
    if not m:
        return prefix
    parts = re.findall(r"\.([A-Za-z_]\w*)|\[(\d+)\]", m.group(1))
    path = "/".join(name or index for name, index in parts)
    return f"{prefix}/{path}" if prefix and path else prefix or path


def _record(
    value: object, source: str, prefix: str, strict: list[Problem] | None = None
) -> ParsedRecord:
    if strict:  # outside the one grammar (clearway.kernel.strict_json)
        reference = value.get("filer_reference") if isinstance(value, dict) else None
        return ParsedRecord(
            None,
            None,
            "declaration",
            source,
            strict,
            filer_reference=reference if isinstance(reference, str) else None,
        )
    try:
        document = msgspec.convert(value, FilingDocument, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        reference = value.get("filer_reference") if isinstance(value, dict) else None
        return ParsedRecord(
            None,
            None,
            "declaration",
            source,
            [Problem(_problem_path(message, prefix), "json.invalid", message[:300])],
            filer_reference=reference if isinstance(reference, str) else None,
        )
    return ParsedRecord(
        document,
        None,
        "declaration",
        source,
        filer_reference=document.filer_reference,
        references=match_keys(document),
    )


def _json(content: bytes) -> list[ParsedRecord]:
    strict = StrictJson(content)
    if strict.problem is not None:
        raise FormatError(f"json.{strict.problem.code}", strict.problem.message)
    try:
        data = _JSON.decode(content)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise FormatError("json.malformed", f"not valid JSON: {exc}") from None
    tree = strict.tree
    if isinstance(data, dict) and isinstance(data.get("filings"), list):
        data, tree = data["filings"], tree["filings"]
    if isinstance(data, dict):
        return [_record(data, "document", "", strict.problems(FilingDocument, tree))]
    if not isinstance(data, list):
        raise FormatError("json.shape", "expected a filing object or an array of filings")
    if len(data) > MAX_JSON_RECORDS:
        raise FormatError("json.too_many", f"more than {MAX_JSON_RECORDS} filings")
    return [
        _record(v, f"[{i}]", str(i), strict.problems(FilingDocument, tree[i], str(i)))
        for i, v in enumerate(data)
    ]


def _jsonl(content: bytes) -> list[ParsedRecord]:
    records: list[ParsedRecord] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        if len(records) >= MAX_JSON_RECORDS:
            raise FormatError("json.too_many", f"more than {MAX_JSON_RECORDS} filings")
        strict = StrictJson(line)
        try:
            if strict.problem is not None:
                raise msgspec.DecodeError(strict.problem.message)
            value = _JSON.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            problem = Problem(f"lines/{number}", "json.malformed", f"not valid JSON: {exc}")
            records.append(ParsedRecord(None, None, "declaration", f"line {number}", [problem]))
            continue
        where = f"lines/{number}"
        problems = strict.problems(FilingDocument, None, where)
        records.append(_record(value, f"line {number}", where, problems))
    return records
