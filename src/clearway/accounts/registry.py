"""The registry of registration numbers and accounts, read from a snapshot that refreshes itself.

The pipeline asks about a registration number for every parcel under vendor collection, so the
answer must be a dictionary read: the (small) registrations and accounts tables are loaded whole
and reloaded when older than `ttl` seconds, or at once after a write through this process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date

from clearway.accounts.model import Account, Registration
from clearway.accounts.ports import AccountsStore


@dataclass
class _Snapshot:
    registrations: dict[str, Registration] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    by_operator: dict[tuple[str, str], Account] = field(default_factory=dict)
    loaded: float = float("-inf")


class Registry:
    def __init__(self, store: AccountsStore, ttl: float = 2.0) -> None:
        self.store = store
        self.ttl = ttl
        self._snap = _Snapshot()
        self._lock = threading.Lock()

    def _current(self) -> _Snapshot:
        snap = self._snap
        if time.monotonic() - snap.loaded <= self.ttl:
            return snap
        with self._lock:
            if time.monotonic() - self._snap.loaded > self.ttl:
                accounts = {a.id: a for a in self.store.accounts()}
                self._snap = _Snapshot(
                    {r.number: r for r in self.store.registrations()},
                    accounts,
                    {(a.operator_id, a.currency): a for a in accounts.values()},
                    time.monotonic(),
                )
            return self._snap

    def invalidate(self) -> None:
        self._snap = _Snapshot()

    def registration(self, number: str) -> Registration | None:
        return self._current().registrations.get(number.strip().upper())

    def registrations(self) -> list[Registration]:
        return sorted(self._current().registrations.values(), key=lambda r: r.number)

    def account(self, account_id: str) -> Account | None:
        return self._current().accounts.get(account_id)

    def accounts(self) -> list[Account]:
        return sorted(self._current().accounts.values(), key=lambda a: a.id)

    def account_of(self, operator_id: str, currency: str) -> Account | None:
        return self._current().by_operator.get((operator_id, currency))

    def status(self, number: str, on: date) -> str | None:
        """The revenue hook: `valid`, `invalid` (unknown, expired, not yet valid, suspended or
        revoked), or `unverified` while the registry is empty (no registry in use: the number
        is not refused, and never trusted for AEO treatment)."""
        snap = self._current()
        if not snap.registrations:
            return "unverified"
        reg = snap.registrations.get(number.strip().upper())
        if reg is None:
            return "invalid"
        return "valid" if reg.standing(on) == "valid" else "invalid"

    def holder(self, number: str) -> str | None:
        """The operator a number is registered to (None: not registered)."""
        reg = self._current().registrations.get(number.strip().upper())
        return reg.operator_id if reg is not None else None

    def trusted(self, number: str, on: date) -> bool:
        """Authorised economic operator standing of a valid registration."""
        reg = self._current().registrations.get(number.strip().upper())
        return reg is not None and reg.aeo and reg.standing(on) == "valid"
