"""What a caller may do with a parcel: its capacity, from the legs that stand.

Officers and admins (and analysts granted consignment access) read everything. An operator's
capacity comes from its own legs on the parcel that stand against the declarants' filings
(`clearance/joining.py`): a declaring leg (or the owner's order) makes it a declarant and it
reads the whole parcel; a payment, waybill or order leg gives that leg's view
(`api/views.py`). Anyone else — and a party whose only leg does not stand — is told the parcel
does not exist (404).
"""

from __future__ import annotations

from collections.abc import Sequence

from clearway.api.views import Capacity
from clearway.clearance.joining import declarants
from clearway.domain.consignment import Consignment
from clearway.kernel.errors import Forbidden, NotFound
from clearway.matching.merge import Leg
from clearway.matching.rules import rules_for
from clearway.storage import record_view
from clearway.storage.record_view import Served
from clearway.storage.repository import Principal
from clearway.wiring.services import Services

# Who records a consignee's payment: the payment provider whose record stands, or the party
# that collects at delivery (a declaring or transporting carrier, post or broker)
_COLLECTORS = frozenset({"carrier", "post", "broker"})


def standing_legs(svc: Services, c: Consignment, legs: list[Leg]) -> list[Leg]:
    doc = c.document
    rules = rules_for(doc.destination_country, doc.legal_date or svc.clock.now().date())
    return svc.pipeline.joins.standing(legs, c.owner, rules)


def capacity_on(c: Consignment, standing: list[Leg], who: Principal) -> Capacity | None:
    if who.sees_everything:
        return "full"
    kinds = {leg.kind for leg in standing if leg.reference.startswith(f"{who.operator_id}/")}
    if kinds and who.operator_id in declarants(standing, c.owner):
        return "full"
    for kind, view in (("payment", "payment"), ("waybill", "transport"), ("order", "order")):
        if kind in kinds:
            return view  # type: ignore[return-value]
    return None


def served_access(
    svc: Services, who: Principal, consignment_id: str
) -> tuple[Served, Capacity, list[Leg]]:
    """The parcel as its record says (`storage/record_view.py`: an owner or status edited in
    the table grants nothing), the caller's capacity on it and the standing legs; 404 when the
    caller has none."""
    served = record_view.load(svc.engine, consignment_id)
    if served is None:
        raise NotFound(f"no consignment {consignment_id}")
    c = served.consignment
    legs = svc.store.legs_of([c.id]).get(c.id, [])
    standing = standing_legs(svc, c, legs)
    cap = capacity_on(c, standing, who)
    if cap is None:
        raise NotFound(f"no consignment {consignment_id}")
    return served, cap, standing


def parcel_access(
    svc: Services, who: Principal, consignment_id: str
) -> tuple[Consignment, Capacity, list[Leg]]:
    """The parcel, the caller's capacity on it and the standing legs; 404 when it has none."""
    served, cap, standing = served_access(svc, who, consignment_id)
    return served.consignment, cap, standing


def require_full(svc: Services, who: Principal, consignment_id: str) -> Consignment:
    """The parcel, for its declarants and officers only (others: 404)."""
    c, cap, _ = parcel_access(svc, who, consignment_id)
    if cap != "full":
        raise NotFound(f"no consignment {consignment_id}")
    return c


def may_record_payment(svc: Services, who: Principal, consignment_id: str) -> None:
    """A consignee's payment is recorded by an officer, the payment provider whose record
    stands on the parcel, or the collecting party (a carrier, post or broker that declared or
    carries it). Others are refused — non-parties with a 404 that reveals nothing."""
    if who.role in ("officer", "admin"):
        return
    _, cap, _ = parcel_access(svc, who, consignment_id)
    if who.role == "payment_provider" and cap == "payment":
        return
    if who.role in _COLLECTORS and cap in ("full", "transport"):
        return
    raise Forbidden("the payment provider or the collecting party records this payment")


def presentable(svc: Services, who: Principal, transport_documents: Sequence[str]) -> list[str]:
    """The transport documents a carrier, post or broker may present: parcels it declared or
    carries. Everything else reads as unknown, so it learns nothing about other parcels."""
    if who.sees_everything:
        return list(transport_documents)
    heads = svc.store.heads_by_transport_document(transport_documents)
    loaded = svc.store.load_many([h.id for h in heads.values()])
    legs = svc.store.legs_of(list(loaded)) if loaded else {}
    out = []
    for td in transport_documents:
        head = heads.get(td)
        c = loaded.get(head.id) if head else None
        if c is None:
            continue
        cap = capacity_on(c, standing_legs(svc, c, legs.get(c.id, [])), who)
        if cap in ("full", "transport"):
            out.append(td)
    return out
