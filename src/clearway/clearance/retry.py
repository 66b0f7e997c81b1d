"""Retrying a unit of work that lost a race, and saying so in domain words when it keeps losing.

Under contention (many processes filing about the same parcels, or the same filer references)
a commit can find that another writer got there first (`StaleWrite`): the work is redone on
fresh state after a jittered, growing pause, so the writers spread out instead of colliding
again in step. When the retries run out, the caller gets a 409 that says what conflicted and
that nothing was stored, never the database's own message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from clearway.clearance.ports import StaleWrite
from clearway.kernel.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 12
FIRST_PAUSE = 0.005  # seconds; doubles each attempt, with full jitter
LONGEST_PAUSE = 0.5


class StillConflicting(Conflict):
    problem_type = "concurrent-update"


def with_retries(
    work: Callable[[], T], what: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """`work()`, redone after a jittered pause each time it raises StaleWrite."""
    for attempt in range(ATTEMPTS):
        try:
            return work()
        except StaleWrite as exc:
            if attempt == ATTEMPTS - 1:
                raise StillConflicting(
                    f"{what} conflicted {ATTEMPTS} times with other requests changing the same "
                    f"parcels or filings ({exc.detail}); nothing was stored — send it again"
                ) from exc
            sleep(random.uniform(0, min(LONGEST_PAUSE, FIRST_PAUSE * 2**attempt)))
    raise AssertionError("unreachable")
