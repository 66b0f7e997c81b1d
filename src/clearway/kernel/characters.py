"""Characters no text field may carry, whatever the database behind it.

Control characters (C0 except tab, line feed and carriage return; DEL; C1), Unicode
bidirectional controls (which can make a name read differently from what is stored, the
"Trojan Source" trick), lone surrogates and non-characters. They are refused before storage,
so SQLite and PostgreSQL hold exactly the same set of valid values (PostgreSQL alone would
refuse NUL; SQLite would keep all of them).
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional controls
    "\ud800-\udfff"  # lone surrogates (not encodable as UTF-8)
    "\ufdd0-\ufdef\ufffe\uffff]"  # non-characters
)


def unsafe_character(text: str) -> str | None:
    """Why `text` is refused (naming the first offending character), or None."""
    found = _UNSAFE.search(text)
    if found is None:
        return None
    return f"contains the control or direction character U+{ord(found.group()):04X}"


# The same characters written as JSON escapes (`\u202e`); a literal backslash before `u` may
# match too, which only sends the text to the exact (per string) check.
_UNSAFE_ESCAPE = re.compile(
    r"\\u(00[01][0-9a-f]|007f|008[0-9a-f]|009[0-9a-f]|061c|200[ef]|202[a-e]|206[6-9]"
    r"|d[89a-f][0-9a-f]{2}|fd[d-e][0-9a-f]|fff[ef])",
    re.IGNORECASE,
)


def may_hold_unsafe(json_text: str) -> bool:
    """Quick test of a whole JSON text: False means no string in it has an unsafe character."""
    if json_text.isascii() and "\\u" not in json_text and "\x7f" not in json_text:
        return False  # raw C0 characters are not JSON; the rest is not ASCII or escaped
    return _UNSAFE.search(json_text) is not None or _UNSAFE_ESCAPE.search(json_text) is not None
