"""Single Window at the border: which agencies a parcel still waits for when it arrives.

An agency routed to a parcel (rules in `agency_routing.yaml`, read at the legal date) gets its
say before release: on arrival the parcel is held for every routed agency that has not acted
on it yet. An agency has acted once it has placed a hold (open or lifted) or given its
clearance (recorded as a hold placed and lifted at once). An agency whose policy is
`at_arrival: notify` sees its parcels in its queue but does not stop them; one with
`timeout_hours: N` has its unanswered arrival holds lifted after N hours (`lapsed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from clearway.domain.consignment import Consignment
from clearway.storage import tables as t
from clearway.storage.agency_routing import Routing, default_routing

ARRIVAL = "system:arrival"  # who places the holds an arrival puts on a parcel


class AgencyGate:
    def __init__(self, engine: Engine, routing: Routing | None = None) -> None:
        self.engine = engine
        self.routing = routing or default_routing()

    def awaited(self, parcels: Sequence[Consignment]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        routed: dict[str, dict[str, str]] = {}
        for c in parcels:
            legal = c.document.legal_date or (c.created_at.date() if c.created_at else None)
            if legal is None:
                continue
            items = ((i.description, i.hs_code) for i in c.document.items)
            found = {
                agency: f"{rule}: {matched}"
                for agency, (rule, matched) in self.routing.route(legal, items).items()
                if agency not in self.routing.notify_only
            }
            if found:
                routed[c.id] = found
        if not routed:
            return out
        acted = self._acted(list(routed))
        for cid, found in routed.items():
            for agency, why in found.items():
                if agency in acted.get(cid, set()):
                    continue
                name = self.routing.agencies.get(agency, agency)
                out.setdefault(cid, {})[agency] = f"awaiting clearance by {name} ({why})"
        return out

    def lapsed(self, now: datetime) -> list[tuple[str, str, str]]:
        h = t.holds.c
        out: list[tuple[str, str, str]] = []
        with self.engine.connect() as conn:
            for agency, hours in sorted(self.routing.timeouts.items()):
                rows = conn.execute(
                    select(h.consignment_id).where(
                        h.authority == agency,
                        h.placed_by == ARRIVAL,
                        h.lifted_at.is_(None),
                        h.placed_at <= now - timedelta(hours=hours),
                    )
                )
                name = self.routing.agencies.get(agency, agency)
                why = f"no answer from {name} within {hours} h (its time-out policy)"
                out += [(cid, agency, why) for (cid,) in rows]
        return out

    def _acted(self, ids: list[str]) -> dict[str, set[str]]:
        h = t.holds.c
        acted: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(h.consignment_id, h.authority).where(h.consignment_id.in_(ids))
            )
            for cid, authority in rows:
                acted.setdefault(cid, set()).add(authority)
        return acted
