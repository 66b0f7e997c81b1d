"""The history keys of a batch: what a history provider counts, and what risk looks up.

One function names, for every item row of a batch, its key per entity kind. A provider that keeps
history (the database one in `clearway.storage.history`) counts stored consignments through it,
and profiles and the model look keys up through the same columns, so both sides always agree.
The model's key groups (`features.HISTORY_GROUPS`) come from the risk frame, as in training.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from clearway.risk.columns import Columns
from clearway.risk.features import HISTORY_GROUPS, frame_from_columns, group_keys, kind_of
from clearway.risk.history import KEY_SEPARATOR

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]


def _join(a: ObjArray, b: ObjArray) -> ObjArray:
    out = np.empty(len(a), dtype=object)
    out[:] = [f"{x}{KEY_SEPARATOR}{y}" if x and y else "" for x, y in zip(a, b, strict=True)]
    return out


def _text(values: npt.NDArray[np.generic]) -> ObjArray:
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) if v else "" for v in values]
    return out


def entity_keys(columns: Columns) -> dict[str, ObjArray]:
    """Kind -> key per item row ("" = no key). Covers `ENTITY_KINDS` and the model's groups."""
    frame = frame_from_columns(columns)
    keys: dict[str, ObjArray] = {kind_of(g): group_keys(frame, g) for g in HISTORY_GROUPS}
    keys["consignee"] = _text(columns.item("consignee.key"))
    keys["consignor"] = _text(columns.item("consignor.key"))
    keys["filer"] = _text(columns.item("filer"))
    keys["carrier"] = frame["carrier"].to_numpy(dtype=object)
    keys["route"] = _text(columns.item("route"))
    description = _text(columns.item("item.description_key"))
    chapter = np.empty(columns.item_owner.shape[0], dtype=object)
    chapter[:] = [str(h)[:2] for h in columns.item("item.hs6")]
    keys["description"] = description
    keys["description+hs2"] = _join(description, chapter)
    return keys


def unit_prices(columns: Columns) -> tuple[ObjArray, ObjArray, FloatArray]:
    """(currency, hs6, unit value) per item row with a positive value and quantity, in the
    filing currency: the observations reference prices are made of."""
    value = columns.item("item.unit_value").astype(np.float64)
    keep = np.isfinite(value) & (value > 0)
    hs6 = columns.item("item.hs6").astype(object)
    keep &= np.fromiter((len(str(h)) == 6 for h in hs6), dtype=bool, count=len(hs6))
    currency = columns.item("currency").astype(object)
    return currency[keep], hs6[keep], value[keep]
