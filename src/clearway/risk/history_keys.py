"""The history keys of a batch: what a history provider counts, and what risk looks up.

One function names, for every item row of a batch, its key per entity kind. A provider that keeps
history (the database one in `clearway.storage.history`) counts stored consignments through it,
and profiles and the model look keys up through the same columns, so both sides always agree.
The model's key groups (`features.HISTORY_GROUPS`) come from the risk frame, as in training.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt

from clearway.risk.columns import Columns
from clearway.risk.features import HISTORY_GROUPS, frame_column, kind_of
from clearway.risk.history import KEY_SEPARATOR

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]

# every kind `entity_keys` names
ALL_KINDS: tuple[str, ...] = (
    *(kind_of(g) for g in HISTORY_GROUPS),
    "consignee",
    "consignor",
    "filer",
    "carrier",
    "route",
    "description",
    "description+hs2",
)


def _join(a: ObjArray, b: ObjArray) -> ObjArray:
    out = np.empty(len(a), dtype=object)
    out[:] = [f"{x}{KEY_SEPARATOR}{y}" if x and y else "" for x, y in zip(a, b, strict=True)]
    return out


def _text(values: npt.NDArray[np.generic]) -> ObjArray:
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) if v else "" for v in values]
    return out


def entity_keys(columns: Columns, kinds: Collection[str] | None = None) -> dict[str, ObjArray]:
    """Kind -> key per item row ("" = no key). Covers `ENTITY_KINDS` and the model's groups;
    with `kinds`, only those (a kind not named here is left out)."""
    wanted = set(ALL_KINDS if kinds is None else kinds)
    frame: dict[str, ObjArray] = {}

    def part(name: str) -> ObjArray:
        if name not in frame:
            frame[name] = frame_column(columns, name)
        return frame[name]

    keys: dict[str, ObjArray] = {}
    for g in HISTORY_GROUPS:
        kind = kind_of(g)
        if kind in wanted:
            keys[kind] = _group(columns, [part(c) for c in g])
    if "consignee" in wanted:
        keys["consignee"] = _text(columns.item("consignee.key"))
    if "consignor" in wanted:
        keys["consignor"] = _text(columns.item("consignor.key"))
    if "filer" in wanted:
        keys["filer"] = _text(columns.item("filer"))
    if "carrier" in wanted:
        keys["carrier"] = part("carrier")
    if "route" in wanted:
        keys["route"] = _text(columns.item("route"))
    if wanted & {"description", "description+hs2"}:
        description = _text(columns.item("item.description_key"))
        if "description" in wanted:
            keys["description"] = description
        if "description+hs2" in wanted:
            chapter = np.empty(columns.item_owner.shape[0], dtype=object)
            chapter[:] = [str(h)[:2] for h in columns.item("item.hs6")]
            keys["description+hs2"] = _join(description, chapter)
    return keys


def _group(columns: Columns, parts: list[ObjArray]) -> ObjArray:
    """As `features.group_keys`: the parts joined, empty when any part is empty."""
    if len(parts) == 1:
        return parts[0]
    keys = np.empty(len(columns.item_owner), dtype=object)
    keys[:] = [KEY_SEPARATOR.join(p) if all(p) else "" for p in zip(*parts, strict=True)]
    return keys


def unit_price_rows(
    columns: Columns,
) -> tuple[npt.NDArray[np.bool_], ObjArray, ObjArray, FloatArray]:
    """Which item rows are price observations (a positive unit value and a six-digit HS code),
    and currency, hs6 and unit value (filing currency) of every item row."""
    value = columns.item("item.unit_value").astype(np.float64)
    keep = np.isfinite(value) & (value > 0)
    hs6 = columns.item("item.hs6").astype(object)
    keep &= np.fromiter((len(str(h)) == 6 for h in hs6), dtype=bool, count=len(hs6))
    currency = columns.item("currency").astype(object)
    return keep, currency, hs6, value
