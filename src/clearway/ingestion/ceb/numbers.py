"""The numbers customs gives an inventory: its pre-entry number (preNo), its inventory number once
adjudicated (invtNo) and its tax bill number (taxNo).

GACC numbers them from its own sequences; Clearway derives a 9-digit serial from the parcel's
id instead, so every answer about one parcel carries the same numbers without a counter to keep.
"""

from __future__ import annotations

import uuid


def _serial(consignment_id: str) -> int:
    return int(uuid.uuid5(uuid.NAMESPACE_URL, f"clearway:{consignment_id}").hex, 16) % 10**9


def inventory_number(office: str | None, year: int, consignment_id: str) -> str:
    """invtNo: customs code (4), year (4), 1 for import, serial (9) — 18 characters."""
    code = office if office and len(office) == 4 and office.isdigit() else "0000"
    return f"{code}{year:04d}1{_serial(consignment_id):09d}"


def pre_number(year: int, consignment_id: str) -> str:
    """preNo: B, year (4), serial (13) — 18 characters."""
    return f"B{year:04d}{_serial(consignment_id):013d}"


def tax_number(invt_no: str) -> str:
    """taxNo: the inventory number and the bill's sequence (one bill per inventory)."""
    return f"{invt_no}01"
