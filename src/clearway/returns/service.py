"""Returns and refunds.

An outbound return refers to an inbound parcel that was released. Within the window the law of the
destination gives (China: 30 days from release, goods back within 45), the tax is not levied or is
refunded, and the person's quota is restored for the value that comes back. A refund claim — by
the consumer or an authorised intermediary — is computed from the original assessment, per item
and pro rata to the quantity returned, and approved or refused with its reasons. An approved
refund on a parcel whose tax a collecting account owes appears as negative lines in that
account's next consolidated declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from clearway.kernel.clock import Clock
from clearway.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, Problem
from clearway.kernel.ids import new_id
from clearway.kernel.money import round_amount
from clearway.returns.approval import PENDING, needs_officer
from clearway.returns.compute import item_problems, refund_lines, returned_share, window_check
from clearway.returns.model import (
    QuotaRestore,
    Refund,
    RefundLine,
    Return,
    ReturnedItem,
    ReturnWindow,
)
from clearway.returns.ports import ReturnsStore

ZERO = Decimal(0)
ReturnLaw = Callable[[str, date], ReturnWindow | None]


class ReturnsService:
    def __init__(self, store: ReturnsStore, clock: Clock, law: ReturnLaw) -> None:
        self.store = store
        self.clock = clock
        self.law = law

    def file_return(
        self,
        *,
        inbound: str,
        return_document: str,
        items: Sequence[ReturnedItem],
        who: str,
        reason: str | None = None,
    ) -> Return:
        """`inbound` is the consignment id or the transport document of the inbound parcel."""
        cid = self.store.consignment_by_document(inbound.strip().upper()) or inbound.strip()
        found = self.store.inbound(cid)
        if found is None:
            raise NotFound(f"no inbound parcel {inbound}")
        parcel, _ = found
        if parcel.status != "released":
            raise DomainError(f"only a released parcel can be returned (it is {parcel.status})")
        doc = return_document.strip().upper()
        if not doc or len(doc) > 50 or doc == parcel.transport_document:
            raise InvalidInput(
                [
                    Problem(
                        "/return_document",
                        "invalid",
                        "the outbound transport document of the return",
                    )
                ]
            )
        problems = item_problems(parcel, items, self.store.returned_quantities(cid))
        if problems:
            raise InvalidInput(problems)
        now = self.clock.now()
        law = self.law(parcel.destination_country, now.date())
        within, ends, back = window_check(parcel.released_on, now.date(), law)
        restore = None
        used = self.store.quota_used_by(cid)
        if within and law is not None and law.restores_quota and used is not None:
            share = returned_share(parcel.values, parcel.quantities, items)
            amount = round_amount(Decimal(used[0]) * share, used[1])
            if amount > 0:
                restore = QuotaRestore(cid, amount, used[1])
        ret = Return(
            new_id("ret"),
            cid,
            doc,
            tuple(items),
            within,
            ends,
            back,
            restore.amount if restore else None,
            reason,
            who,
            now,
        )
        self.store.add_return(ret, restore)
        return ret

    def awaiting_refund(self, consignment_id: str) -> list[Return]:
        """The parcel's returns whose refund has not been claimed yet (the goods not back)."""
        out = []
        for return_id in self.store.returns_of(consignment_id):
            if self.store.refund_of_return(return_id) is None:
                out.append(self.get_return(return_id))
        return out

    def get_return(self, return_id: str) -> Return:
        ret = self.store.get_return(return_id)
        if ret is None:
            raise NotFound(f"no return {return_id}")
        return ret

    def claim_refund(
        self,
        *,
        return_id: str,
        claimant: str,
        officer_above: dict[str, Decimal] | None = None,
    ) -> Refund:
        """A refund claim on a return: computed from the original assessment, then approved or
        refused with the reasons. With `officer_above` (per-currency amounts), an approvable
        refund above its amount waits as `pending_approval` for an officer."""
        ret = self.get_return(return_id)
        if self.store.refund_of_return(return_id) is not None:
            raise Conflict(f"a refund was already claimed for return {return_id}")
        found = self.store.inbound(ret.consignment_id)
        assert found is not None  # a return always refers to a stored parcel
        parcel, assessment = found
        reasons: list[str] = []
        lines = []
        currency = assessment.currency if assessment else ""
        if assessment is None or assessment.payable_by == "none" or assessment.total <= 0:
            reasons.append("nothing was assessed on the inbound parcel: nothing to refund")
        else:
            whole = all(
                sum(it.quantity for it in ret.items if it.item == i) == q
                for i, q in enumerate(parcel.quantities)
            )
            lines = refund_lines(assessment, parcel.quantities, ret.items, whole)
            if not lines:
                reasons.append("no duty or tax was charged on the returned items")
        if not ret.within_window:
            reasons.append(
                f"return filed {ret.filed_at.date()} outside the window (last day "
                f"{ret.window_ends})"
                if ret.window_ends
                else "the destination's law gives no refund window for returned goods"
            )
        approved = not reasons
        if approved:
            reasons.append(
                f"returned within the window (until {ret.window_ends}); refund computed from "
                "the original assessment, pro rata to the quantities returned"
            )
        amount = sum((ln.amount for ln in lines), ZERO) if approved else ZERO
        status = "approved" if approved else "refused"
        if (
            approved
            and officer_above is not None
            and needs_officer(amount, currency, officer_above)
        ):
            status = PENDING
            limit = officer_above.get(currency.upper())
            reasons.append(
                f"above {limit} {currency}: an officer approves it"
                if limit is not None
                else f"no amount set for {currency}: an officer approves it"
            )
        refund = Refund(
            new_id("rfd"),
            ret.consignment_id,
            ret.id,
            self.store.collecting_account(ret.consignment_id) if approved else None,
            claimant,
            ret.items,
            currency,
            amount,
            tuple(lines) if approved else (),
            status,
            tuple(reasons),
            self.clock.now(),
        )
        self.store.add_refund(refund)
        return refund

    def request_repayment(
        self,
        *,
        consignment_id: str,
        claimant: str,
        amount: Decimal,
        currency: str,
        reason: str,
        duty_type: str | None = None,
    ) -> Refund:
        """A repayment or remission the declaration's own follow-up applies for (EU: the 4C
        application, an invalidation after release, a post-release amendment that lowers the
        amount due — Art. 116 and 173-174 UCC). It waits for an officer's decision, then is paid
        (`pay_refund`), or shows in the collecting account's next declaration."""
        if amount < 0:
            raise InvalidInput([Problem("/amount", "negative", "a repayment is not negative")])
        refund = Refund(
            new_id("rfd"),
            consignment_id,
            None,
            self.store.collecting_account(consignment_id),
            claimant,
            (),
            currency,
            amount,
            (RefundLine(None, duty_type or "duty", None, amount),),
            PENDING,
            (reason, "customs decides the application: an officer approves or refuses it"),
            self.clock.now(),
        )
        self.store.add_refund(refund)
        return refund

    def pay_refund(self, refund_id: str, *, officer: str, reference: str) -> Refund:
        """An approved refund paid out to the claimant (not one settled through an account)."""
        refund = self.get_refund(refund_id)
        if refund.status != "approved":
            raise Conflict(f"refund {refund_id} is {refund.status}; only an approved one is paid")
        if refund.account_id is not None:
            raise Conflict(
                f"refund {refund_id} is settled in the account's next consolidated declaration"
            )
        reasons = (*refund.reasons, f"paid by {officer}: {reference}")
        self.store.set_refund_status(refund_id, "paid", reasons)
        return self.get_refund(refund_id)

    def decide_refund(self, refund_id: str, *, approve: bool, officer: str, reason: str) -> Refund:
        """An officer approves or refuses a refund waiting for approval."""
        refund = self.get_refund(refund_id)
        if refund.status != PENDING:
            raise Conflict(f"refund {refund_id} is {refund.status}, not waiting for approval")
        status = "approved" if approve else "refused"
        reasons = (*refund.reasons, f"{status} by {officer}: {reason}")
        self.store.set_refund_status(refund_id, status, reasons)
        return self.get_refund(refund_id)

    def get_refund(self, refund_id: str) -> Refund:
        refund = self.store.get_refund(refund_id)
        if refund is None:
            raise NotFound(f"no refund {refund_id}")
        return refund
