"""The risk selector's `ProfileOverrides` port over the profile versions edited on the web pages.

`WebStore.effective_versions(day)` gives, per profile, the version in force on a day; each
becomes a `risk.overrides.ProfileOverride` carrying the version's active flag, weight, lane,
referral and reason. Caching is the selector's (`risk.overrides.CachedOverrides`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from clearway.risk.overrides import ProfileOverride
from clearway.storage.profile_versions import ProfileVersion
from clearway.storage.web_repository import WebStore


class StoredProfileOverrides:
    def __init__(self, engine: Engine, store: WebStore | None = None) -> None:
        self.store = store or WebStore(engine)

    def overrides(self, day: date) -> dict[str, ProfileOverride]:
        return {pid: to_override(v) for pid, v in self.store.effective_versions(day).items()}


def to_override(version: ProfileVersion) -> ProfileOverride:
    return ProfileOverride(
        version=version.version,
        active=version.active,
        weight=float(version.weight),
        lane=version.lane,
        referral=version.referral,
        reason=version.reason,
    )
