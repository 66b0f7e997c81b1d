"""Hardened XML parsing for every XML format we accept.

Messages come from outside, so the parser never resolves entities, never touches the network,
refuses any DTD (which is where XXE and billion-laughs payloads live), and caps size, depth and
element count before the document is walked. Each refusal is a `FormatError` with a code.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from lxml import etree

from clearway.ingestion.records import FormatError

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 40
MAX_ELEMENTS = 200_000

_FORBIDDEN_MARKUP = (b"<!DOCTYPE", b"<!ENTITY", b"<!ELEMENT", b"<!ATTLIST")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(
    content: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> etree._Element:
    """Parse untrusted XML bytes into an element tree, or raise FormatError saying why not."""
    if len(content) > max_bytes:
        raise FormatError(
            "xml.too_large", f"the document is {len(content)} bytes; the limit is {max_bytes}"
        )
    head = content[:4096].upper()
    if any(marker in head or marker in content for marker in _FORBIDDEN_MARKUP):
        raise FormatError(
            "xml.dtd_forbidden", "document type declarations and entities are not accepted"
        )
    depth = 0
    count = 0
    root: etree._Element | None = None
    try:
        for event, element in etree.iterparse(
            io.BytesIO(content),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        ):
            if event == "start":
                depth += 1
                count += 1
                if root is None:
                    root = element
                if depth > max_depth:
                    raise FormatError(
                        "xml.too_deep", f"elements are nested deeper than {max_depth} levels"
                    )
                if count > max_elements:
                    raise FormatError(
                        "xml.too_many_elements", f"the document has over {max_elements} elements"
                    )
            else:
                depth -= 1
    except etree.XMLSyntaxError as exc:
        raise FormatError("xml.malformed", f"not well-formed XML: {exc.msg}") from None
    if root is None:
        raise FormatError("xml.malformed", "the document has no root element")
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise FormatError(
            "xml.dtd_forbidden", "document type declarations and entities are not accepted"
        )
    for element in root.iter():
        if not isinstance(element.tag, str):  # entity references left unresolved
            raise FormatError("xml.entity_forbidden", "entity references are not accepted")
    return root


def _schema_file(package_path: Traversable) -> etree.XMLSchema:
    with resources.as_file(package_path) as path:
        tree = etree.parse(str(path), _parser())
        return etree.XMLSchema(tree)


@cache
def schema(*parts: str) -> etree.XMLSchema:
    """A shipped XSD under `clearway/ingestion/schemas/`; its imports resolve locally."""
    node = resources.files("clearway.ingestion").joinpath("schemas", *parts)
    return _schema_file(node)


def schema_problems(xsd: etree.XMLSchema, root: etree._Element, limit: int = 20) -> list[str]:
    """Validation messages (line and message), empty when the document is valid."""
    if xsd.validate(root):
        return []
    entries = [f"line {e.line}: {e.message}" for e in xsd.error_log]  # type: ignore[attr-defined]
    return entries[:limit]


@dataclass(frozen=True, slots=True)
class SchemaError:
    line: int
    path: str  # XPath of the offending element, without namespace prefixes
    message: str


_PREFIX = re.compile(r"(?<=/)[A-Za-z_][\w.-]*:")


def schema_errors(xsd: etree.XMLSchema, root: etree._Element, limit: int = 20) -> list[SchemaError]:
    """Each schema violation with its line and the XPath of the element (empty when valid)."""
    if xsd.validate(root):
        return []
    found = []
    for entry in list(xsd.error_log)[:limit]:  # type: ignore[call-overload]
        path = _PREFIX.sub("", entry.path or "") or "/"
        found.append(SchemaError(entry.line, path, entry.message))
    return found


def local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def text(element: etree._Element | None) -> str | None:
    """Stripped text of an element, None when absent or blank."""
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None
