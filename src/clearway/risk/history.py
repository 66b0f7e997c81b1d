"""Entity history: what is known about a seller, consignee, HS code… from earlier traffic.

Risk reads history through one small port, `HistoryProvider`, so the same feature code runs over
the database (the product), over training labels (batch training, the benchmark) and over a dict
(tests). Providers return raw counts; smoothing happens here, once, in `smoothed_rate`.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Entity kinds risk asks about. A provider may know only some; unknown keys count as never seen.
ENTITY_KINDS: tuple[str, ...] = (
    "seller",
    "consignee",
    "consignor",
    "importer",
    "declarant",
    "carrier",
    "filer",
    "hs6",
    "origin",
    "route",
)


@dataclass(frozen=True, slots=True)
class EntityStat:
    """Counts for one entity: consignments seen, of which inspected, of which irregular."""

    seen: int = 0
    inspected: int = 0
    irregular: int = 0


NEVER_SEEN = EntityStat()


@dataclass(frozen=True, slots=True)
class SameDayKey:
    """A consignee buying from one seller on one day (split-shipment detection)."""

    consignee: str
    seller: str
    day: date


@dataclass(frozen=True, slots=True)
class SameDayTotal:
    consignments: int = 0
    value: float = 0.0  # in the destination currency


class HistoryProvider(Protocol):
    """Entity history for a batch. Called once per batch with the distinct keys of the batch."""

    def entity_stats(self, kind: str, keys: Collection[str]) -> Mapping[str, EntityStat]:
        """Counts per key for one entity kind (see ENTITY_KINDS); missing keys = never seen."""
        ...

    def reference_unit_prices(self, hs6: Collection[str], currency: str) -> Mapping[str, float]:
        """Reference (typical) unit value per HS6 in `currency`; missing = no reference."""
        ...

    def same_day_totals(self, keys: Collection[SameDayKey]) -> Mapping[SameDayKey, SameDayTotal]:
        """Earlier consignments (not the batch itself) for a consignee+seller on one day."""
        ...


def smoothed_rate(
    irregular: FloatArray, inspected: FloatArray, prior: float, strength: float
) -> FloatArray:
    """Irregularity rate shrunk towards `prior`: (irregular + k·prior) / (inspected + k).

    An entity inspected a few times says little; one inspected hundreds of times speaks for itself.
    """
    return (irregular + strength * prior) / (inspected + strength)


@dataclass
class InMemoryHistory:
    """A HistoryProvider over dicts: for tests, batch training and the benchmark."""

    stats: dict[str, dict[str, EntityStat]] = field(default_factory=dict)
    prices: dict[str, dict[str, float]] = field(default_factory=dict)  # currency -> hs6 -> price
    same_day: dict[SameDayKey, SameDayTotal] = field(default_factory=dict)

    def entity_stats(self, kind: str, keys: Collection[str]) -> Mapping[str, EntityStat]:
        table = self.stats.get(kind, {})
        return {k: table[k] for k in keys if k in table}

    def reference_unit_prices(self, hs6: Collection[str], currency: str) -> Mapping[str, float]:
        table = self.prices.get(currency, {})
        return {k: table[k] for k in hs6 if k in table}

    def same_day_totals(self, keys: Collection[SameDayKey]) -> Mapping[SameDayKey, SameDayTotal]:
        return {k: self.same_day[k] for k in keys if k in self.same_day}

    def record(self, kind: str, key: str, *, inspected: bool, irregular: bool) -> None:
        """Add one consignment's outcome for one entity."""
        table = self.stats.setdefault(kind, {})
        old = table.get(key, NEVER_SEEN)
        table[key] = EntityStat(
            old.seen + 1, old.inspected + int(inspected), old.irregular + int(irregular)
        )

    @classmethod
    def from_labels(
        cls,
        entities: Mapping[str, Iterable[Hashable]],
        labels: Iterable[int],
    ) -> InMemoryHistory:
        """Count history from labelled rows: every labelled row counts as inspected.

        `entities` maps a kind to a column of keys aligned with `labels`; empty keys are skipped.
        """
        label_list = [int(v) for v in labels]
        y = np.asarray(label_list, dtype=np.int64)
        history = cls()
        for kind, column in entities.items():
            keys = np.asarray([_key(k) for k in column], dtype=object)
            if len(keys) != len(y):
                raise ValueError(f"{kind}: {len(keys)} keys for {len(y)} labels")
            uniq, inverse = np.unique(keys.astype(str), return_inverse=True)
            seen = np.bincount(inverse, minlength=len(uniq))
            bad = np.bincount(inverse, weights=y, minlength=len(uniq))
            history.stats[kind] = {
                str(k): EntityStat(int(s), int(s), int(b))
                for k, s, b in zip(uniq, seen, bad, strict=True)
                if k != ""
            }
        return history

    def to_json(self) -> dict[str, dict[str, list[int]]]:
        return {
            kind: {k: [s.seen, s.inspected, s.irregular] for k, s in table.items()}
            for kind, table in self.stats.items()
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, list[int]]]) -> InMemoryHistory:
        return cls(
            stats={
                kind: {k: EntityStat(v[0], v[1], v[2]) for k, v in table.items()}
                for kind, table in data.items()
            }
        )


def _key(value: Hashable) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)
