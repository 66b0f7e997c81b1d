"""Edited profile versions applied at decision time (the `ProfileOverrides` port).

Analysts edit a shipped profile by adding a version that is in force from one date until
another (stored by the web pages, see `docs/web.md`). While a version is in force on a
consignment's legal date it replaces the profile's editable state for that consignment: whether
it applies at all (also outside the shipped `from`/`until`), its weight, its lane and referral
floors, and its reason text. On a day without a version in force the shipped rule applies.

Risk only sees the port; `clearway.storage.profile_overrides` implements it over the stored
versions and `clearway.wiring` connects them. `CachedOverrides` keeps each day's answer for a
short time so that batches do not query the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ProfileOverride:
    """The state of one profile set by an edited version in force on a day."""

    version: int
    active: bool
    weight: float
    lane: str | None
    referral: str | None
    reason: str


class ProfileOverrides(Protocol):
    def overrides(self, day: date) -> Mapping[str, ProfileOverride]:
        """Profile id -> the edited version in force on `day` (legal date); absent = shipped."""
        ...


class CachedOverrides:
    """Keeps each day's overrides for `ttl` seconds (wall time, not the business clock).

    An edit reaches decisions at most `ttl` seconds after it is stored, or at once in the
    process that calls `invalidate()` after storing it."""

    def __init__(
        self,
        source: ProfileOverrides,
        *,
        ttl: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_days: int = 366,
    ) -> None:
        self.source = source
        self.ttl = ttl
        self._monotonic = monotonic
        self._max_days = max_days
        self._days: dict[date, tuple[float, Mapping[str, ProfileOverride]]] = {}
        self._lock = threading.Lock()

    def overrides(self, day: date) -> Mapping[str, ProfileOverride]:
        now = self._monotonic()
        cached = self._days.get(day)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        fresh = dict(self.source.overrides(day))
        with self._lock:
            if len(self._days) >= self._max_days:
                self._days = {d: v for d, v in self._days.items() if now - v[0] < self.ttl}
            self._days[day] = (now, fresh)
        return fresh

    def invalidate(self) -> None:
        """Forget every cached day: the next batch reads the source again."""
        with self._lock:
            self._days = {}


@dataclass(frozen=True)
class BatchOverrides:
    """The overrides in force for one batch: consignments grouped by legal date."""

    row_day: IntArray  # per consignment, index into `by_day`
    by_day: tuple[Mapping[str, ProfileOverride], ...]
    profile_ids: frozenset[str]  # profiles with a version in force on some day of the batch

    @classmethod
    def for_batch(
        cls, legal_dates: Sequence[date], source: ProfileOverrides
    ) -> BatchOverrides | None:
        """None when no profile has a version in force on any legal date of the batch."""
        days: dict[date, int] = {}
        row_day = np.fromiter(
            (days.setdefault(d, len(days)) for d in legal_dates),
            dtype=np.int64,
            count=len(legal_dates),
        )
        by_day = tuple(source.overrides(d) for d in days)
        ids = frozenset(pid for day in by_day for pid in day)
        if not ids:
            return None
        return cls(row_day, by_day, ids)

    def active(self, profile_id: str, dated: BoolArray) -> BoolArray:
        """Per consignment: the version's active flag where one is in force, else `dated` (the
        shipped from/until read at the legal date)."""
        if profile_id not in self.profile_ids:
            return dated
        out = dated.copy()
        for k, day in enumerate(self.by_day):
            found = day.get(profile_id)
            if found is not None:
                out[self.row_day == k] = found.active
        return out

    def split(
        self, profile_id: str, rows: IntArray
    ) -> list[tuple[ProfileOverride | None, IntArray]]:
        """Consignment rows grouped by the version in force for them (None = shipped rule)."""
        if profile_id not in self.profile_ids:
            return [(None, rows)]
        days = self.row_day[rows]
        out: list[tuple[ProfileOverride | None, IntArray]] = []
        for k in np.unique(days):
            out.append((self.by_day[int(k)].get(profile_id), rows[days == k]))
        return out
