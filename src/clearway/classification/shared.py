"""One classifier per process, built on first use (loading takes a second; building the index
the first time, about a minute)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from clearway.classification.classifier import Classifier
from clearway.kernel.errors import ClearwayError

log = logging.getLogger(__name__)


class LazyClassifier:
    """Builds the classifier the first time it is asked for, once, from a thread-safe factory."""

    def __init__(self, national: Callable[[], Mapping[str, Mapping[str, str]]]) -> None:
        self._national = national
        self._built: Classifier | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Build it now in a background thread, so the first request does not wait long."""

        def build() -> None:
            try:
                self.get()
            except ClearwayError as exc:  # e.g. the model is not installed: said on first use
                log.warning("HS classifier not ready: %s", exc.detail)

        threading.Thread(target=build, name="hs-classifier", daemon=True).start()

    def get(self) -> Classifier:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = Classifier(self._national())
        return self._built
