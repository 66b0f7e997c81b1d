"""Who may file what, and who may join a parcel (the trust rules of multi-party filing).

A filing's role is always the role of the key that sent it — a message format may imply a
role (a CEB411 is a payment provider's), but it never lends one: a platform key cannot send a
payment record and be taken for a payment provider. Each kind of leg has the roles that may
file it.
"""

from __future__ import annotations

from clearway.kernel.errors import Problem

# The roles that may file each kind of leg (admin may file anything).
KIND_ROLES: dict[str, frozenset[str]] = {
    "declaration": frozenset({"platform", "broker", "carrier", "post"}),
    "inventory": frozenset({"platform", "broker", "carrier", "post"}),
    "order": frozenset({"platform"}),
    "payment": frozenset({"payment_provider"}),
    "waybill": frozenset({"carrier", "post"}),
}


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
