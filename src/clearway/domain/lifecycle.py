"""The consignment lifecycle as one table-driven state machine.

filed → (referred) → assessed → decided → arrived → [held ⇄ inspected] →
released | seized | returned_to_sender | abandoned; before arrival a filer may invalidate.
Payment has its own small machine.
Illegal transitions raise `IllegalTransition`; nothing is silently ignored.
"""

from __future__ import annotations

from typing import Final

from clearway.kernel.errors import Conflict

STATUSES: Final = (
    "filed",
    "referred",
    "assessed",
    "decided",
    "arrived",
    "held",
    "inspected",
    "released",
    "seized",
    "returned_to_sender",
    "abandoned",
    "invalidated",
)
FINAL_STATUSES: Final = frozenset(
    {"released", "seized", "returned_to_sender", "abandoned", "invalidated"}
)
PRE_ARRIVAL: Final = frozenset({"filed", "referred", "assessed", "decided"})

_PRE_DECISION = ("filed", "referred", "assessed", "decided")
_AT_BORDER = ("arrived", "held", "inspected")

# (status, action) -> next status
TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("filed", "refer"): "referred",
    ("referred", "refer"): "referred",
    ("filed", "assess"): "assessed",
    ("referred", "assess"): "assessed",
    ("assessed", "decide"): "decided",
    **{(s, "amend"): "filed" for s in _PRE_DECISION},
    # another party's leg joined the parcel (who, which leg, on what basis); the status stays
    **{(s, "join"): s for s in _PRE_DECISION},
    # an officer closes an open pre-loading referral with its named resolution
    **{(s, "resolve_referral"): s for s in (*_PRE_DECISION, *_AT_BORDER)},
    **{(s, "arrive"): "arrived" for s in _PRE_DECISION},
    # a parcel held before it arrives (an agency, an officer) still arrives: the event is
    # recorded (time-release starts there) and the parcel stays held
    ("held", "arrive"): "held",
    # the last hold lifted before arrival: the parcel is decided again, waiting for arrival
    ("held", "resume"): "decided",
    # the filer withdraws its data before arrival (EU H7 invalidation, CEB cancellation)
    **{(s, "invalidate"): "invalidated" for s in _PRE_DECISION},
    **{(s, "hold"): "held" for s in ("decided", *_AT_BORDER)},
    **{(s, "request_documents"): "held" for s in ("decided", *_AT_BORDER)},
    **{(s, "lift_hold"): s for s in ("decided", *_AT_BORDER)},
    # a Single Window agency clears a parcel routed to it (lifting its own holds if any)
    **{(s, "clear"): s for s in (*_PRE_DECISION, *_AT_BORDER)},
    # a reason added to a standing decision (e.g. a record leg overdue); the status stays
    **{(s, "flag"): s for s in ("referred", "decided")},
    ("arrived", "inspect"): "inspected",
    ("held", "inspect"): "inspected",
    ("inspected", "inspect"): "inspected",
    **{(s, "release"): "released" for s in _AT_BORDER},
    **{(s, "seize"): "seized" for s in _AT_BORDER},
    **{(s, "return_to_sender"): "returned_to_sender" for s in ("decided", *_AT_BORDER)},
    **{(s, "abandon"): "abandoned" for s in _AT_BORDER},
}
ACTIONS: Final = frozenset(action for _, action in TRANSITIONS)

# Clearance ends at a final status, but a released declaration still has a life of its own: the
# declarant may amend it (Art. 173(3) UCC), have it invalidated when the goods went back
# (Art. 174 UCC, Art. 148 DA) and apply for repayment or remission (Art. 116 UCC). These moves
# are their own table; no border action applies to a final status.
AFTER_RELEASE: Final[dict[tuple[str, str], str]] = {
    ("released", "amend_after_release"): "released",
    ("released", "invalidate_after_release"): "invalidated",
    ("released", "request_repayment"): "released",
    ("invalidated", "request_repayment"): "invalidated",
}

PAYMENT_STATUSES: Final = ("none", "due", "paid", "settled", "refunded")
PAYMENT_TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("none", "charge"): "due",
    ("due", "charge"): "due",
    ("due", "pay"): "paid",
    ("due", "waive"): "none",
    # a post-release amendment raises the amount: the difference is due again
    ("paid", "charge"): "due",
    ("settled", "charge"): "due",
    ("paid", "settle"): "settled",
    ("paid", "refund"): "refunded",
    ("settled", "refund"): "refunded",
}


class IllegalTransition(Conflict):
    problem_type = "illegal-transition"


def next_status(status: str, action: str) -> str:
    """The status after `action`, or IllegalTransition naming what is allowed instead."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        if (status, action) in AFTER_RELEASE:
            return AFTER_RELEASE[(status, action)]
        allowed = sorted(a for (s, a) in TRANSITIONS if s == status)
        raise IllegalTransition(
            f"cannot {action.replace('_', ' ')} a consignment that is {status}; "
            f"allowed now: {', '.join(allowed) or 'nothing (final status)'}"
        ) from None


def next_payment_status(status: str, action: str) -> str:
    try:
        return PAYMENT_TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(f"cannot {action} when payment is {status}") from None
