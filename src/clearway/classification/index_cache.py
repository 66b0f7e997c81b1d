"""The embedding index of the nomenclature: built once, then read from a cache file.

Encoding the ~7,000 texts of HS 2022 takes about a minute on one core; the result (float16,
5 MB) is kept under the cache folder, named by a hash of the model and of every text, so a
changed nomenclature or model builds a new file and an old file is never read by mistake.
`scripts/install` builds it (`clearway hs index`); otherwise the first suggestion does. Two
processes starting together build it once: the second waits on a file lock and reads it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from clearway.classification.encoder import MODEL_NAME, Encoder

F32 = npt.NDArray[np.float32]
FORMAT = "1"  # bump when the encoder's arithmetic changes
BATCH = 64


def corpus_key(texts: Sequence[str]) -> str:
    digest = hashlib.sha256(f"{MODEL_NAME}/{FORMAT}".encode())
    for t in texts:
        digest.update(t.encode("utf-8") + b"\x1f")
    return digest.hexdigest()[:16]


def cache_file(texts: Sequence[str], folder: Path) -> Path:
    return folder / f"hs-index-{corpus_key(texts)}.npy"


def load_or_build(
    texts: Sequence[str],
    encoder: Encoder,
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
) -> F32:
    """Embeddings of `texts` (one row each), from the cache or built and cached."""
    path = cache_file(texts, folder)
    cached = _read(path, len(texts))
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / (path.name + ".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _read(path, len(texts))  # another process may have built it meanwhile
        if cached is not None:
            return cached
        rows = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        for start in range(0, len(texts), BATCH * 4):
            end = min(start + BATCH * 4, len(texts))
            rows[start:end] = encoder.encode(texts[start:end], batch_size=BATCH)
            if progress is not None:
                progress(end, len(texts))
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            np.save(f, rows.astype(np.float16))
        os.replace(tmp, path)
    return rows


def _read(path: Path, count: int) -> F32 | None:
    if not path.is_file():
        return None
    try:
        rows = np.load(path)
    except (OSError, ValueError):
        return None  # unreadable: build again
    if rows.ndim != 2 or rows.shape[0] != count:
        return None
    return np.asarray(rows, dtype=np.float32)
