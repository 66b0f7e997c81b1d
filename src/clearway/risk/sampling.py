"""Random control sampling: a reproducible draw per consignment, independent of its risk.

The draw is a hash of the seed and the consignment id mapped to [0, 1), so the same consignment
with the same seed is always (or never) sampled, whichever process decides it and in whatever
batch. Samples measure hit rates without the bias of targeting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

_SCALE = float(2**64)


def draw(consignment_id: str, seed: int) -> float:
    """A uniform number in [0, 1) determined by the consignment id and the seed."""
    digest = hashlib.blake2b(
        consignment_id.encode("utf-8"), digest_size=8, key=str(seed).encode("ascii")
    ).digest()
    return int.from_bytes(digest, "big") / _SCALE


def draws(consignment_ids: Iterable[str], seed: int) -> npt.NDArray[np.float64]:
    return np.fromiter((draw(c, seed) for c in consignment_ids), dtype=np.float64)


def sampled(consignment_ids: Iterable[str], seed: int, rate: float) -> npt.NDArray[np.bool_]:
    """Which consignments fall in the control sample at `rate`."""
    ids = list(consignment_ids)
    if rate <= 0:
        return np.zeros(len(ids), dtype=bool)
    return draws(ids, seed) < rate
