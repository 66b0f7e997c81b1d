"""Identifiers: time-ordered, URL-safe, generated without coordination."""

from __future__ import annotations

import base64
import os
import time

# Crockford's base32 alphabet keeps ids free of I, L, O and U; translate from RFC 4648's.
_TO_CROCKFORD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


def new_id(prefix: str) -> str:
    """A ULID-style id (48-bit ms time + 80 random bits) with a readable prefix, e.g. `cns_01J…`.

    Big-endian time first, so ids sort by creation time.
    """
    raw = (time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(9)  # 15 bytes = 24 chars
    return f"{prefix}_{base64.b32encode(raw).translate(_TO_CROCKFORD).decode()}"
