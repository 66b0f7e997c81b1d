"""One classifier per process, built on first use (loading takes a second; building the index
the first time, about a minute)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from clearway.classification.classifier import Classifier


class LazyClassifier:
    """Builds the classifier the first time it is asked for, once, from a thread-safe factory."""

    def __init__(self, national: Callable[[], Mapping[str, Mapping[str, str]]]) -> None:
        self._national = national
        self._built: Classifier | None = None
        self._lock = threading.Lock()

    def get(self) -> Classifier:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = Classifier(self._national())
        return self._built
