"""Who is a party to a parcel, and in which capacity: read from the filings merged into it.

The owner (the operator whose filing created the parcel) and every operator that filed a
declaring leg (a declaration or a customs inventory) are its declarants and read everything; an
operator that attached a partial leg (order, payment, waybill) is a party in the capacity of
that leg only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from clearway.storage import tables as t

DECLARING_KINDS = frozenset({"declaration", "inventory"})


@dataclass(frozen=True, slots=True)
class Party:
    operator_id: str
    roles: frozenset[str] = field(default_factory=frozenset)  # the roles its keys filed under
    kinds: frozenset[str] = field(default_factory=frozenset)  # the legs it filed
    owner: bool = False

    @property
    def declarant(self) -> bool:
        return self.owner or bool(self.kinds & DECLARING_KINDS)


class SqlParties:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of(self, consignment_id: str) -> dict[str, Party]:
        """Every operator that filed about the parcel, by operator id (empty: no such parcel)."""
        f = t.filings.c
        c = t.consignments.c
        with self.engine.connect() as conn:
            owner = conn.execute(select(c.owner_id).where(c.id == consignment_id)).scalar()
            rows = conn.execute(
                select(f.operator_id, f.role, f.kind)
                .where(f.consignment_id == consignment_id)
                .distinct()
            ).all()
        roles: dict[str, set[str]] = {}
        kinds: dict[str, set[str]] = {}
        for op, role, kind in rows:
            roles.setdefault(op, set()).add(role)
            kinds.setdefault(op, set()).add(kind)
        return {
            op: Party(op, frozenset(roles[op]), frozenset(kinds[op]), op == owner) for op in roles
        }

    def party(self, consignment_id: str, operator_id: str) -> Party | None:
        return self.of(consignment_id).get(operator_id)
