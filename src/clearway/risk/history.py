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
import pandas as pd

FloatArray = npt.NDArray[np.float64]
UInt64Array = npt.NDArray[np.uint64]
KEY_SEPARATOR = "\x1f"  # joins the parts of a composite key such as hs6+value
_MIX = np.uint64(0x9E3779B97F4A7C15)

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
    "description",  # normalised goods description
    "description+hs2",  # description with the HS chapter it was declared under
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

    def same_day_totals(
        self, keys: Collection[SameDayKey], exclude: Collection[str] = ()
    ) -> Mapping[SameDayKey, SameDayTotal]:
        """Stored consignments for a consignee+seller on one day, leaving out the consignment
        ids in `exclude` (the batch being decided: an amendment must not count its old self)."""
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
    _arrays: dict[str, tuple[pd.Index, FloatArray, FloatArray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def entity_stats(self, kind: str, keys: Collection[str]) -> Mapping[str, EntityStat]:
        table = self.stats.get(kind, {})
        return {k: table[k] for k in keys if k in table}

    def reference_unit_prices(self, hs6: Collection[str], currency: str) -> Mapping[str, float]:
        table = self.prices.get(currency, {})
        return {k: table[k] for k in hs6 if k in table}

    def same_day_totals(
        self, keys: Collection[SameDayKey], exclude: Collection[str] = ()
    ) -> Mapping[SameDayKey, SameDayTotal]:
        """Totals as given: the dict holds other days' or other parcels' totals only."""
        return {k: self.same_day[k] for k in keys if k in self.same_day}

    def counts_by_hash(self, kind: str, hashes: UInt64Array) -> tuple[FloatArray, FloatArray]:
        """Inspected and irregular counts per key hash (see `key_hash`): the batch fast path."""
        if kind not in self._arrays:
            table = self.stats.get(kind, {})
            keys = list(table.keys())
            width = max((k.count(KEY_SEPARATOR) + 1 for k in keys), default=1)
            parts = [
                part_hashes(np.asarray([_part(k, i) for k in keys], dtype=object))
                for i in range(width)
            ]
            index = pd.Index(combine_hashes(parts) if keys else np.zeros(0, dtype=np.uint64))
            inspected = np.fromiter((s.inspected for s in table.values()), np.float64, len(table))
            irregular = np.fromiter((s.irregular for s in table.values()), np.float64, len(table))
            self._arrays[kind] = (index, np.append(inspected, 0.0), np.append(irregular, 0.0))
        index, inspected, irregular = self._arrays[kind]
        pos = index.get_indexer(hashes)  # -1 (never seen) picks the appended zero
        return inspected[pos], irregular[pos]

    def prepare(self) -> None:
        """Build the hash indexes of every kind now rather than on the first batch."""
        for kind in self.stats:
            self.counts_by_hash(kind, np.zeros(0, dtype=np.uint64))

    def record(self, kind: str, key: str, *, inspected: bool, irregular: bool) -> None:
        """Add one consignment's outcome for one entity."""
        table = self.stats.setdefault(kind, {})
        self._arrays.pop(kind, None)
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


def _part(key: str, i: int) -> str:
    parts = key.split(KEY_SEPARATOR)
    return parts[i] if i < len(parts) else ""


def part_hashes(values: npt.NDArray[np.object_]) -> UInt64Array:
    """Stable 64-bit hash per value; 0 for an empty value (the key is then missing)."""
    if len(values) and not all(isinstance(v, str) for v in values[:1]):
        values = values.astype(str).astype(object)
    hashed: UInt64Array = pd.util.hash_array(values, categorize=False)
    hashed[values == ""] = 0
    return hashed


def combine_hashes(parts: list[UInt64Array]) -> UInt64Array:
    """Hash of a composite key from its parts' hashes; 0 when any part is empty."""
    combined = parts[0].copy()
    missing = parts[0] == 0
    for p in parts[1:]:
        combined = combined * _MIX + p
        missing |= p == 0
    combined[missing] = 0
    return combined


def _key(value: Hashable) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)
