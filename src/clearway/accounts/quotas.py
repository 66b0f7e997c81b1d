"""Per-person quotas: who a person is, and how much of the yearly limit is used.

A person is keyed by a normalised identity: the orderer's identifier (China: the buyer's ID
number on the order and inventory), else the consignee's, else name + postcode + country, the
same normalisation as the stored consignee key. Usage is kept per year in memory for the
pipeline's hook and topped up from the database with the entries written since the last look
(a watermark), so a lookup is a dictionary read.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

from clearway.accounts.ports import AccountsStore
from clearway.domain.filing import FilingDocument, Party

_NOT_ID = re.compile(r"[^0-9A-Z]")


def identity_key(identifier: str) -> str:
    return "id:" + _NOT_ID.sub("", identifier.upper())


def name_key(name: str, postcode: str | None, country: str | None) -> str:
    norm = " ".join(name.lower().split())
    return f"{norm}|{(postcode or '').replace(' ', '').lower()}|{(country or '').upper()}"


def person_key(party: Party | None) -> str | None:
    if party is None:
        return None
    if party.identifier and party.identifier.strip():
        return identity_key(party.identifier)
    if party.name and party.name.strip():
        return name_key(party.name, party.postcode, party.country)
    return None


def quota_person(doc: FilingDocument) -> str | None:
    """Whose quota a parcel uses: the orderer's ID number when known, else the consignee."""
    if doc.buyer is not None and doc.buyer.identifier and doc.buyer.identifier.strip("- "):
        return identity_key(doc.buyer.identifier)
    return person_key(doc.consignee)


def parse_person(text: str) -> str:
    """A person as asked for in a query: a key as stored (`id:…` or `name|postcode|country`) or
    a bare identifier."""
    text = text.strip()
    if text.startswith("id:") or "|" in text:
        return text if text.startswith("id:") else name_key(*_split3(text))
    return identity_key(text)


def _split3(text: str) -> tuple[str, str, str]:
    parts = [*text.split("|"), "", ""][:3]
    return parts[0], parts[1], parts[2]


class QuotaLedger:
    def __init__(self, store: AccountsStore, ttl: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self._years: dict[int, tuple[int, dict[str, Decimal], float]] = {}
        self._lock = threading.Lock()

    def used(self, person: str, year: int) -> Decimal:
        state = self._years.get(year)
        if state is None or time.monotonic() - state[2] > self.ttl:
            state = self._refresh(year)
        return state[1].get(person, Decimal(0))

    def _refresh(self, year: int) -> tuple[int, dict[str, Decimal], float]:
        with self._lock:
            mark, totals, _ = self._years.get(year, (0, defaultdict(Decimal), 0.0))
            new_mark, delta = self.store.quota_totals_after(mark, year)
            for person, amount in delta.items():
                totals[person] = totals.get(person, Decimal(0)) + amount
            state = (max(mark, new_mark), totals, time.monotonic())
            self._years[year] = state
            return state

    def invalidate(self) -> None:
        with self._lock:
            self._years = {
                y: (mark, totals, float("-inf")) for y, (mark, totals, _) in self._years.items()
            }

    def annual_usage(self, identifier: str, on: date) -> Decimal | None:
        """The revenue hook: what the person with this identifier used in the year of `on`."""
        if not identifier or not identifier.strip():
            return None
        return self.used(identity_key(identifier), on.year)


def quota_limits(country: str, on: date) -> tuple[Decimal, Decimal, str] | None:
    """(annual limit, per-transaction limit, currency) of the destination's retail import regime
    on `on`, read from its revenue pack (`cbec`); None where no such regime is in force."""
    from clearway.revenue.assessor import PackAssessor

    rules = PackAssessor.load_default().rules(country.upper(), on)
    cbec = rules.value("cbec") if rules is not None else None
    if cbec is None:
        return None
    annual, single = cbec["annual_limit"], cbec["transaction_limit"]
    return Decimal(annual["amount"]), Decimal(single["amount"]), str(annual["currency"])
