"""Login lockout with back-off, kept in the database so every process sees the same locks.

Each subject — the user name, the client address, the API key's prefix — counts its consecutive
failed logins. From the `threshold`-th failure on, the subject is locked for `first` seconds,
doubling with each further failure up to `longest`; a success clears the user (or key) subject.
An address gets four times the threshold (many people may share one). While a subject is locked
the password is not even checked, so guessing gains nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from clearway.kernel.clock import Clock
from clearway.storage.engine import writer
from clearway.storage.repository import aware
from clearway.storage.tables_security import login_failures as lf

ADDRESS_FACTOR = 4


def lock_seconds(failures: int, threshold: int, first: float, longest: float) -> float:
    """How long a subject with `failures` consecutive failures stays locked (0: not locked)."""
    if failures < threshold:
        return 0.0
    return float(min(longest, first * 2 ** min(failures - threshold, 30)))


class LoginLockout:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        threshold: int = 5,
        first: float = 30.0,
        longest: float = 3600.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.threshold = max(1, threshold)
        self.first = first
        self.longest = longest

    def _threshold(self, subject: str) -> int:
        return self.threshold * (ADDRESS_FACTOR if subject.startswith("addr:") else 1)

    def retry_after(self, subjects: Sequence[str]) -> float:
        """Seconds until every subject may try again (0: none is locked)."""
        now = self.clock.now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(lf.c.locked_until).where(lf.c.subject.in_(list(subjects)))
            ).all()
        ends = [aware(r[0]) for r in rows if r[0] is not None]
        return max([0.0, *((e - now).total_seconds() for e in ends if e is not None)])

    def failed(self, subjects: Sequence[str]) -> float:
        """Count a failure against each subject; returns the longest lock it now causes."""
        now = self.clock.now()
        longest = 0.0
        for subject in subjects:
            for _attempt in range(3):
                try:
                    longest = max(longest, self._fail_one(subject, now))
                    break
                except IntegrityError:
                    continue  # a concurrent first failure inserted the row: count again
        return longest

    def _fail_one(self, subject: str, now: datetime) -> float:
        with writer(self.engine).begin() as conn:
            row = conn.execute(select(lf.c.failures).where(lf.c.subject == subject)).first()
            failures = (row[0] if row else 0) + 1
            wait = lock_seconds(failures, self._threshold(subject), self.first, self.longest)
            values = {
                "failures": failures,
                "locked_until": now + timedelta(seconds=wait) if wait else None,
                "last_failure_at": now,
            }
            if row is None:
                conn.execute(insert(lf).values(subject=subject, **values))
            else:
                conn.execute(update(lf).where(lf.c.subject == subject).values(**values))
            return wait

    def succeeded(self, subjects: Sequence[str]) -> None:
        with writer(self.engine).begin() as conn:
            conn.execute(delete(lf).where(lf.c.subject.in_(list(subjects))))
