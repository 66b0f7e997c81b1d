"""Who is a party to a parcel, and in which capacity: read from the filings merged into it.

The owner (the operator whose filing created the parcel) and every operator that filed a
declaring leg (a declaration or a customs inventory) are its declarants and read everything; an
operator that attached a partial leg (order, payment, waybill) is a party in the capacity of
that leg only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from clearway.accounts.registry import Registry
from clearway.clearance.joining import Joiner
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


def party_lookup(
    engine: Engine, registry: Registry | None = None, ttl: float = 2.0
) -> Callable[[str], Joiner | None]:
    """An operator's name and the numbers registered to it, as the join rules need them
    (names read once; numbers from the registry's snapshot, `ttl` seconds at most)."""
    names: dict[str, str] = {}
    numbers: dict[str, frozenset[str]] = {}
    loaded = [float("-inf")]

    def lookup(operator_id: str) -> Joiner | None:
        if operator_id not in names:
            with engine.connect() as conn:
                row = conn.execute(
                    select(t.operators.c.name, t.operators.c.role).where(
                        t.operators.c.id == operator_id
                    )
                ).first()
            if row is None:
                return None
            names[operator_id] = str(row[0])
        if registry is not None and time.monotonic() - loaded[0] > ttl:
            by_op: dict[str, set[str]] = {}
            for reg in registry.registrations():
                by_op.setdefault(reg.operator_id, set()).add(
                    "".join(ch for ch in reg.number.upper() if ch.isalnum())
                )
            numbers.clear()
            numbers.update({op: frozenset(n) for op, n in by_op.items()})
            loaded[0] = time.monotonic()
        return Joiner(operator_id, names[operator_id], "", numbers.get(operator_id, frozenset()))

    return lookup


def operator_by_name(engine: Engine) -> Callable[[str], str | None]:
    """An operator's id by its name (case and spacing ignored), read once per name."""
    cache: dict[str, str | None] = {}

    def find(name: str) -> str | None:
        norm = " ".join(name.lower().split())
        if norm not in cache:
            with engine.connect() as conn:
                rows = conn.execute(select(t.operators.c.id, t.operators.c.name)).all()
            for oid, n in rows:
                cache[" ".join(str(n).lower().split())] = str(oid)
            cache.setdefault(norm, None)
        return cache[norm]

    return find
