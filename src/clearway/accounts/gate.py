"""The accounts side of the border (implements `clearway.clearance.ports.AccountGate`).

One call per arrival batch: parcels whose collecting account would go over its guarantee are held
with the reason; parcels just released accrue their liability and quota usage.
"""

from __future__ import annotations

from collections.abc import Sequence

from clearway.accounts.service import COLLECTING, AccountsService, counts_toward_quota
from clearway.domain.consignment import Consignment


class AccountsGate:
    def __init__(self, service: AccountsService) -> None:
        self.service = service

    def holds_for(self, parcels: Sequence[Consignment]) -> dict[str, str]:
        return self.service.guarantee_holds(parcels)

    def released(self, parcels: Sequence[Consignment]) -> None:
        now = self.service.clock.now()
        todo = []
        for c in parcels:
            a = c.assessment
            if a is None or c.status != "released":
                continue
            if (a.payable_by in COLLECTING and a.total > 0) or counts_toward_quota(a.flags):
                r = self.service.released_parcel(c, c.closed_at or now)
                if r is not None:
                    todo.append(r)
        if todo:
            self.service.accrue(todo)
