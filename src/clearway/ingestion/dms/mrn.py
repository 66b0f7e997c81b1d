"""Movement reference numbers in the Union format (Annex B of Delegated Regulation (EU)
2015/2446, DE 12 01): 2-digit year of acceptance, the Member State's country code, 12 letters or
digits unique per year and country, the procedure indicator, and a check digit computed as in
ISO 6346 over the first 17 characters.

The 12 characters derive from the consignment id, so the MRN of an accepted declaration is the
same every time it is asked for (a re-sent declaration gets the MRN it got first).
"""

from __future__ import annotations

import hashlib
import re
import string

# procedure indicator (DE 12 01, fifth component): import declaration only
IMPORT_ONLY = "R"
_ALPHABET = string.digits + string.ascii_uppercase
_SHAPE = re.compile(r"[0-9]{2}[A-Z]{2}[0-9A-Z]{12}[A-Z][0-9]")


def _value(char: str) -> int:
    """ISO 6346 character values: digits as such, letters from 10 skipping multiples of 11."""
    if char.isdigit():
        return int(char)
    value = 10 + (ord(char) - ord("A"))
    for skipped in (11, 22, 33):
        if value >= skipped:
            value += 1
    return value


def check_digit(body: str) -> int:
    """ISO 6346: each character's value times 2**position, summed, modulo 11 (10 counts 0)."""
    total = sum(_value(c) * (1 << i) for i, c in enumerate(body.upper()))
    return total % 11 % 10


def serial(consignment_id: str) -> str:
    """12 letters or digits derived from the consignment id."""
    number = int.from_bytes(hashlib.sha256(consignment_id.encode()).digest()[:10], "big")
    chars = []
    for _ in range(12):
        number, digit = divmod(number, 36)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def make(year: int, country: str, unique: str, indicator: str = IMPORT_ONLY) -> str:
    body = f"{year % 100:02d}{country.upper()}{unique.upper()}{indicator}"
    if len(body) != 17:
        raise ValueError(f"an MRN body has 17 characters, got {body!r}")
    return body + str(check_digit(body))


def for_consignment(consignment_id: str, year: int, country: str) -> str:
    return make(year, country, serial(consignment_id))


def is_valid(mrn: str) -> bool:
    """Shape and check digit."""
    return bool(_SHAPE.fullmatch(mrn)) and check_digit(mrn[:17]) == int(mrn[17])
