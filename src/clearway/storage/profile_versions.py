"""Versioned, audited edits of risk profiles: each in force only after a second person approved it.

`ProfileVersions` is one part of the web store (`storage/web_repository.py`): it reads and writes
`web_profile_versions` and counts what each profile's hits led to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from clearway.kernel.clock import Clock
from clearway.kernel.errors import InvalidInput, NotFound, Problem
from clearway.kernel.ids import new_id
from clearway.storage import tables as t
from clearway.storage import tables_web as w
from clearway.storage.repository import aware


@dataclass(frozen=True, slots=True)
class ProfileVersion:
    profile_id: str
    version: int
    active: bool
    weight: str
    lane: str | None
    referral: str | None
    reason: str
    effective_from: date
    effective_until: date | None
    note: str
    edited_by: str
    edited_at: datetime | None
    status: str = "proposed"  # PROFILE_STATUSES
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None


# A proposed version waits for a second person; approved versions decide from their date.
PROFILE_STATUSES = ("proposed", "approved", "rejected", "withdrawn")


class ProfileVersions:
    """Profile edits and their review; the web store supplies the engine, writer and clock."""

    engine: Engine
    clock: Clock
    _writer: Any

    def profile_stats(self) -> tuple[int, dict[str, tuple[int, int, int]]]:
        """Decided consignments, and per profile: (hits, hits inspected, inspections that found)."""
        c = t.consignments.c
        hcol = w.web_rule_hits.c
        i = t.inspections.c
        with self.engine.connect() as conn:
            decided = int(
                conn.execute(
                    select(func.count()).where(or_(c.lane.is_not(None), c.referral.is_not(None)))
                ).scalar_one()
            )
            hits: dict[str, int] = dict(
                conn.execute(select(hcol.profile_id, func.count()).group_by(hcol.profile_id)).all()
            )
            per = (
                select(
                    i.consignment_id,
                    func.max(case((i.found.is_(True), 1), else_=0)).label("found"),
                )
                .group_by(i.consignment_id)
                .subquery()
            )
            checked = conn.execute(
                select(hcol.profile_id, func.count(), func.sum(per.c.found))
                .join(per, per.c.consignment_id == hcol.consignment_id)
                .group_by(hcol.profile_id)
            ).all()
        inspected = {str(p): (int(n), int(f or 0)) for p, n, f in checked}
        out: dict[str, tuple[int, int, int]] = {}
        for p, n in hits.items():
            seen, found = inspected.get(str(p), (0, 0))
            out[str(p)] = (int(n), seen, found)
        return decided, out

    def profile_versions(self, profile_id: str | None = None) -> list[ProfileVersion]:
        v = w.web_profile_versions.c
        q = select(w.web_profile_versions).order_by(v.profile_id, v.version.desc())
        if profile_id is not None:
            q = q.where(v.profile_id == profile_id)
        with self.engine.connect() as conn:
            return [
                ProfileVersion(
                    r["profile_id"],
                    r["version"],
                    bool(r["active"]),
                    r["weight"],
                    r["lane"],
                    r["referral"],
                    r["reason"],
                    r["effective_from"],
                    r["effective_until"],
                    r["note"],
                    r["edited_by"],
                    aware(r["edited_at"]),
                    r["status"],
                    r["reviewed_by"],
                    aware(r["reviewed_at"]),
                    r["review_note"],
                )
                for r in conn.execute(q).mappings()
            ]

    def propose_profile_version(
        self,
        profile_id: str,
        *,
        active: bool,
        weight: str,
        lane: str | None,
        referral: str | None,
        reason: str,
        effective_from: date,
        effective_until: date | None,
        note: str,
        edited_by: str,
    ) -> ProfileVersion:
        """Record a proposed version of a profile (never overwrites: every edit stays readable).
        It decides nothing until a second person approves it (`review_profile_version`); one
        proposal per profile waits at a time."""
        problems = []
        try:
            if not 0 <= float(weight) <= 1000:
                raise ValueError
        except ValueError:
            problems.append(Problem("/weight", "range", "a number of risk points, 0 to 1000"))
        if lane not in (None, "green", "blue", "yellow", "red"):
            problems.append(Problem("/lane", "enum", "green, blue, yellow, red or none"))
        if referral not in (
            None,
            "assessment_complete",
            "request_for_information",
            "request_for_screening",
            "do_not_load",
        ):
            problems.append(Problem("/referral", "enum", "a pre-loading referral or none"))
        if not reason.strip():
            problems.append(Problem("/reason", "required", "say why the profile exists"))
        if not note.strip():
            problems.append(Problem("/note", "required", "say why it is being changed"))
        if effective_until is not None and effective_until <= effective_from:
            problems.append(Problem("/effective_until", "range", "must be after effective_from"))
        if problems:
            raise InvalidInput(problems, "the profile version is not valid")
        v = w.web_profile_versions.c
        with self._writer.begin() as conn:
            # One statement, one snapshot: read apart, a proposal committed between the two
            # reads would be missed as pending yet counted in the next version number. Read
            # together, a concurrent proposal either shows as pending or takes the same version
            # number and loses on the unique constraint below.
            waiting, last = conn.execute(
                select(
                    func.max(case((v.status == "proposed", v.version))), func.max(v.version)
                ).where(v.profile_id == profile_id)
            ).one()
            if waiting is not None:
                raise InvalidInput(
                    [
                        Problem(
                            "/version",
                            "proposal_pending",
                            f"version {waiting} is waiting for review: approve, reject or "
                            "withdraw it first",
                        )
                    ],
                    "the profile version is not valid",
                )
            version = int(last or 0) + 1
            row: dict[str, Any] = {
                "id": new_id("prv"),
                "profile_id": profile_id,
                "version": version,
                "active": active,
                "weight": str(weight),
                "lane": lane,
                "referral": referral,
                "reason": reason.strip(),
                "effective_from": effective_from,
                "effective_until": effective_until,
                "note": note.strip(),
                "edited_by": edited_by,
                "edited_at": self.clock.now(),
                "status": "proposed",
            }
            try:
                conn.execute(insert(w.web_profile_versions).values(**row))
            except IntegrityError as exc:  # another analyst proposed the same version number
                raise InvalidInput(
                    [
                        Problem(
                            "/version",
                            "proposal_pending",
                            "another version was proposed at the same moment: reload the page",
                        )
                    ],
                    "the profile version is not valid",
                ) from exc
        row.pop("id")
        return ProfileVersion(**row)

    def review_profile_version(
        self, profile_id: str, version: int, *, decision: str, by: str, note: str
    ) -> ProfileVersion:
        """Approve or reject a proposed version (someone other than its author), or withdraw
        it (its author only). Approval puts it in force from its effective date."""
        if decision not in ("approved", "rejected", "withdrawn"):
            raise InvalidInput(
                [Problem("/decision", "enum", "approved, rejected or withdrawn")],
                "the review is not valid",
            )
        v = w.web_profile_versions.c
        with self._writer.begin() as conn:
            row = (
                conn.execute(
                    select(v.status, v.edited_by).where(
                        v.profile_id == profile_id, v.version == version
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no version {version} of risk profile {profile_id}")
            problems = []
            if row["status"] != "proposed":
                problems.append(
                    Problem("/version", "not_proposed", f"version {version} is {row['status']}")
                )
            elif decision == "withdrawn" and row["edited_by"] != by:
                problems.append(
                    Problem("/decision", "not_author", "only its author withdraws a proposal")
                )
            elif decision != "withdrawn" and row["edited_by"] == by:
                problems.append(
                    Problem(
                        "/decision",
                        "own_proposal",
                        "a second person reviews a change: you proposed this version",
                    )
                )
            if decision == "rejected" and not note.strip():
                problems.append(Problem("/review_note", "required", "say why it is rejected"))
            if problems:
                raise InvalidInput(problems, "the review is not valid")
            done = conn.execute(
                update(w.web_profile_versions)
                .where(v.profile_id == profile_id, v.version == version, v.status == "proposed")
                .values(
                    status=decision,
                    reviewed_by=by,
                    reviewed_at=self.clock.now(),
                    review_note=note.strip() or None,
                )
            )
            if done.rowcount != 1:  # another reviewer decided it in the meantime
                raise InvalidInput(
                    [Problem("/version", "not_proposed", f"version {version} was just reviewed")],
                    "the review is not valid",
                )
        [out] = [p for p in self.profile_versions(profile_id) if p.version == version]
        return out

    def effective_versions(self, on: date) -> dict[str, ProfileVersion]:
        """Per profile, the approved version in force on `on`: the latest to start by then
        (among versions starting the same day, the last approved)."""
        out: dict[str, ProfileVersion] = {}
        approved = [p for p in self.profile_versions() if p.status == "approved"]
        last = datetime.min.replace(tzinfo=UTC)
        for pv in sorted(
            approved, key=lambda p: (p.effective_from, p.reviewed_at or p.edited_at or last)
        ):
            if pv.effective_from <= on:
                out[pv.profile_id] = pv
        return {k: p for k, p in out.items() if p.effective_until is None or on < p.effective_until}
