"""Who may file what, and who may join a parcel (the trust rules of multi-party filing).

A filing's role is always the role of the key that sent it — a message format may imply a
role (a CEB411 is a payment provider's), but it never lends one: a platform key cannot send a
payment record and be taken for a payment provider. Each kind of leg has the roles that may
file it.

Another operator's leg joins a parcel only when
- the parcel's declarant named that operator in its filing — as the carrier (`carrier`), the
  platform (`platform`) or the payment provider (`payment.provider`), by the operator's name or
  by a number registered to it — in the role the slot calls for; or
- the leg proves the relationship by agreeing with the parcel on several independent keys: a
  reference (transport document, order id or payment id) **and** the person (the consignee's
  name, or the payer as the consignee, buyer or payer on file) **and**, unless the reference is
  the transport document, the amount (payment amount or order total, within the destination's
  tolerance).
Otherwise the leg is held as unmatched for an officer and nobody else is told it exists (the
declarant can name the party and the party send its record again). No leg joins after
arrival, and a declaration never replaces another operator's declaration. Legs that came
before the declaration are checked against it the same way (`JoinPolicy.standing`): one that
is neither named nor agreeing is left out of the merge and gives its filer no rights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Literal

from clearway.domain.filing import FilingDocument, Party
from clearway.domain.lifecycle import PRE_ARRIVAL
from clearway.kernel.errors import Problem
from clearway.matching.merge import Leg
from clearway.matching.rules import MatchRules

# The roles that may file each kind of leg (admin may file anything).
KIND_ROLES: dict[str, frozenset[str]] = {
    "declaration": frozenset({"platform", "broker", "carrier", "post"}),
    "inventory": frozenset({"platform", "broker", "carrier", "post"}),
    "order": frozenset({"platform"}),
    "payment": frozenset({"payment_provider"}),
    "waybill": frozenset({"carrier", "post"}),
}
DECLARING_KINDS = frozenset({"declaration", "inventory"})
# Which slot of a declarant's filing names a party of which role
_SLOTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("carrier", frozenset({"carrier", "post"})),
    ("platform", frozenset({"platform"})),
    ("payment.provider", frozenset({"payment_provider"})),
)

Outcome = Literal["attach", "unmatched", "refused"]


def role_problems(kind: str, role: str) -> list[Problem]:
    """Why a key of `role` may not file a `kind` leg (empty when it may)."""
    allowed = KIND_ROLES.get(kind)
    if role == "admin" or allowed is None or role in allowed:
        return []
    return [
        Problem(
            "/",
            "role_not_allowed",
            f"a {role.replace('_', ' ')} key cannot file a {kind} record; it is filed with the "
            f"key of a {' or '.join(sorted(r.replace('_', ' ') for r in allowed))}",
        )
    ]


@dataclass(frozen=True, slots=True)
class Joiner:
    """The operator whose leg asks to join, as the join rules see it."""

    operator_id: str
    name: str
    role: str
    identifiers: frozenset[str] = frozenset()  # numbers registered to it (normalised)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    basis: str  # why it may join, or why not (for the timeline and the officer)
    problem: Problem | None = None


@dataclass(frozen=True, slots=True)
class HeldLeg:
    """A leg not allowed to join: kept whole for an officer, told to nobody else."""

    id: str
    consignment_id: str
    operator_id: str
    role: str
    kind: str
    filer_reference: str
    body_hash: str
    body: str
    format: str
    reason: str
    received_at: datetime


PARTY = "a party of the parcel"
# A declaration (or order) for a parcel known so far only from payment or transport records:
# the declarant takes the parcel over, and the earlier records are judged against it.
FIRST_DECLARATION = "the first declaration of a parcel known only from partial records"
_DECLARANT_GRADE = DECLARING_KINDS | {"order"}


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _ident(text: str | None) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def similar(a: str | None, b: str | None, threshold: Decimal) -> bool:
    left, right = _norm(a), _norm(b)
    if not left or not right:
        return False
    if left == right:
        return True
    return Decimal(str(round(SequenceMatcher(None, left, right).ratio(), 3))) >= threshold


def _slot(doc: FilingDocument, slot: str) -> Party | None:
    if slot == "payment.provider":
        return getattr(doc.payment, "provider", None) if doc.payment else None
    party: Party | None = getattr(doc, slot)
    return party


def named_by(docs: Iterable[FilingDocument], joiner: Joiner) -> str | None:
    """The slot in which a declarant's filing names the joiner, if one does."""
    for doc in docs:
        for slot, roles in _SLOTS:
            party = _slot(doc, slot)
            if party is None or (joiner.role not in roles and joiner.role != "admin"):
                continue
            if party.name and _norm(party.name) == _norm(joiner.name):
                return slot
            if party.identifier and _ident(party.identifier) in joiner.identifiers:
                return slot
    return None


def _amounts(doc: FilingDocument) -> list[Decimal]:
    out = []
    if doc.order is not None and doc.order.total is not None:
        out.append(doc.order.total)
    if doc.payment is not None and doc.payment.amount is not None:
        out.append(doc.payment.amount)
    return out


def agreeing_keys(doc: FilingDocument, on_file: FilingDocument, rules: MatchRules) -> set[str]:
    """The independent keys on which a leg agrees with the parcel on file."""
    keys: set[str] = set()
    td = doc.transport_document
    if td and td == on_file.transport_document and not td.startswith(("order:", "payment:")):
        keys.add("transport_document")
    if doc.order and doc.order.id and on_file.order and doc.order.id == on_file.order.id:
        keys.add("order_id")
    if doc.payment and doc.payment.id and on_file.payment and doc.payment.id == on_file.payment.id:
        keys.add("payment_id")
    threshold = rules.name_similarity
    people = [p.name for p in (on_file.consignee, on_file.buyer) if p is not None and p.name] + (
        [on_file.payment.payer_name] if on_file.payment and on_file.payment.payer_name else []
    )
    consignee = on_file.consignee
    if doc.consignee is not None and consignee is not None:
        same_name = similar(doc.consignee.name, consignee.name, threshold)
        ids = _ident(doc.consignee.identifier), _ident(consignee.identifier)
        if same_name and (not all(ids) or ids[0] == ids[1]):
            keys.add("consignee")
    payer = doc.payment.payer_name if doc.payment else None
    if payer and any(similar(payer, p, threshold) for p in people):
        keys.add("payer")
    tolerance = rules.amount_tolerance
    mine, theirs = _amounts(doc), _amounts(on_file)
    if any(abs(a - b) <= abs(b) * tolerance for a in mine for b in theirs):
        keys.add("amount")
    return keys


def proves_relationship(keys: set[str]) -> bool:
    reference = keys & {"transport_document", "order_id", "payment_id"}
    person = keys & {"consignee", "payer"}
    return bool(reference and person and ("transport_document" in keys or "amount" in keys))


def may_join(
    *,
    kind: str,
    doc: FilingDocument,
    joiner: Joiner,
    status: str,
    owner: str,
    on_file: FilingDocument,
    legs: list[Leg],
    rules: MatchRules,
) -> Verdict:
    """May this leg join the parcel? (`on_file`: the parcel's merged document; `legs`: every
    leg merged into it, each with its `<operator id>/<filer reference>`.)"""
    mine = f"{joiner.operator_id}/"
    party = owner == joiner.operator_id or any(leg.reference.startswith(mine) for leg in legs)
    if status not in PRE_ARRIVAL:
        return Verdict(
            "refused",
            "after arrival",
            Problem(
                "/",
                "join_refused",
                "the parcel has been presented at the border: records are accepted only before "
                "arrival — ask an officer",
            ),
        )
    if not party and kind in DECLARING_KINDS:
        declared = [
            leg
            for leg in legs
            if leg.kind in DECLARING_KINDS and leg.document.data_set != "pre_loading"
        ]
        if declared:
            return Verdict(
                "refused",
                "already declared",
                Problem(
                    "/transport_document",
                    "already_declared",
                    f"{doc.transport_document or 'this parcel'} is already declared by another "
                    "operator; file your record as an order, payment or waybill, or ask the "
                    "declarant to amend",
                ),
            )
    if party:
        return Verdict("attach", PARTY)
    if kind in _DECLARANT_GRADE and not any(leg.kind in _DECLARANT_GRADE for leg in legs):
        return Verdict("attach", FIRST_DECLARATION)
    slot = named_by(declarant_documents(legs, owner) or [on_file], joiner)
    if slot is not None:
        return Verdict("attach", f"named by the declarant as {slot}")
    keys = agreeing_keys(doc, on_file, rules)
    if proves_relationship(keys):
        return Verdict("attach", "agrees on " + ", ".join(sorted(keys)))
    return Verdict(
        "unmatched",
        "not named by the declarant and agrees only on " + (", ".join(sorted(keys)) or "nothing"),
    )


def _operator(leg: Leg) -> str:
    return leg.reference.split("/", 1)[0]


def declarants(legs: list[Leg], owner: str) -> set[str]:
    """The operators that speak for the parcel: those that filed a declaration or inventory,
    else an order, else its owner."""
    for kinds in (DECLARING_KINDS, frozenset({"order"})):
        found = {_operator(leg) for leg in legs if leg.kind in kinds}
        if found:
            return found
    return {owner}


def declarant_documents(legs: list[Leg], owner: str) -> list[FilingDocument]:
    """What the parcel's declarants said (their legs' documents)."""
    who = declarants(legs, owner)
    return [leg.document for leg in legs if _operator(leg) in who]


class JoinPolicy:
    """The join rules with the operators' names and registered numbers at hand."""

    def __init__(
        self,
        lookup: Callable[[str], Joiner | None] | None = None,
        by_name: Callable[[str], str | None] | None = None,
    ) -> None:
        self.lookup = lookup or (lambda _op: None)
        self.by_name = by_name or (lambda _name: None)

    def claimants(self, filer_id: str, owner: str, doc: FilingDocument) -> frozenset[str]:
        """Who may hold a registration number quoted on the parcel: its filer and owner, and
        the platform the filing names (by the name it is known to customs by)."""
        named = self.by_name(doc.platform.name) if doc.platform and doc.platform.name else None
        return frozenset({filer_id, owner} | ({named} if named else set()))

    def verdict(
        self,
        *,
        kind: str,
        doc: FilingDocument,
        joiner: Joiner,
        status: str,
        owner: str,
        on_file: FilingDocument,
        legs: list[Leg],
        rules: MatchRules,
    ) -> Verdict:
        found = self.lookup(joiner.operator_id)
        if found is not None:
            joiner = Joiner(joiner.operator_id, joiner.name, joiner.role, found.identifiers)
        return may_join(
            kind=kind,
            doc=doc,
            joiner=joiner,
            status=status,
            owner=owner,
            on_file=on_file,
            legs=legs,
            rules=rules,
        )

    def standing(self, legs: list[Leg], owner: str, rules: MatchRules) -> list[Leg]:
        """The legs that stand against what the declarants said: theirs, and every other leg
        named by them or agreeing with them on several keys. A leg that came before the
        declaration and does neither (a pre-emptive guess) is left out of the merge and gives
        its filer no rights on the parcel."""
        said = declarant_documents(legs, owner)
        speakers = declarants(legs, owner)
        out: list[Leg] = []
        for leg in legs:
            op = _operator(leg)
            if op in speakers:
                out.append(leg)
                continue
            joiner = self.lookup(op) or Joiner(op, "", leg.role)
            joiner = Joiner(op, joiner.name, leg.role, joiner.identifiers)
            if named_by(said, joiner) is not None or any(
                proves_relationship(agreeing_keys(leg.document, d, rules)) for d in said
            ):
                out.append(leg)
        return out
