"""Refunds by the right party: to the one that paid, and above a set amount only with an officer.

A refund goes back the way the money came: under vendor or intermediary collection to the
collecting account (negative lines in its next declaration); under consumer collection to the
consignee, through the payment recorded on the parcel (its recorder and reference are named on
the refund). A refund above `CLEARWAY_REFUND_OFFICER_ABOVE` for its currency — or in a currency
without a set amount — waits as `pending_approval` until an officer approves or refuses it; an
officer's own claim needs no second approval.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

PENDING = "pending_approval"


def parse_limits(text: str) -> dict[str, Decimal]:
    """`EUR:150,GBP:135` → {EUR: 150, GBP: 135} (bad entries are ignored)."""
    out: dict[str, Decimal] = {}
    for part in text.split(","):
        code, _, amount = part.strip().partition(":")
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            continue
        if len(code.strip()) == 3 and value.is_finite() and value >= 0:
            out[code.strip().upper()] = value
    return out


def needs_officer(amount: Decimal, currency: str, limits: dict[str, Decimal]) -> bool:
    limit = limits.get(currency.upper())
    return limit is None or amount > limit
