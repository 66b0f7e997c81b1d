"""Refund arithmetic and return checks, from the original assessment. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from clearway.domain.assessment import Assessment
from clearway.kernel.errors import Problem
from clearway.kernel.money import round_amount
from clearway.returns.model import Inbound, RefundLine, ReturnedItem, ReturnWindow

ZERO = Decimal(0)


def item_problems(
    inbound: Inbound, items: Sequence[ReturnedItem], already: dict[int, int]
) -> list[Problem]:
    """Items must exist, be whole positive quantities, and not be returned twice."""
    problems: list[Problem] = []
    if not items:
        problems.append(Problem("/items", "required", "list the returned items"))
    seen: set[int] = set()
    for i, it in enumerate(items):
        where = f"/items/{i}"
        if not 0 <= it.item < len(inbound.quantities):
            problems.append(
                Problem(
                    f"{where}/item",
                    "range",
                    f"the parcel has items 0..{len(inbound.quantities) - 1}",
                )
            )
            continue
        if it.item in seen:
            problems.append(Problem(f"{where}/item", "duplicate", "item listed twice"))
        seen.add(it.item)
        left = inbound.quantities[it.item] - already.get(it.item, 0)
        if not 1 <= it.quantity <= left:
            problems.append(
                Problem(f"{where}/quantity", "range", f"between 1 and {left} (not yet returned)")
            )
    return problems


def window_check(
    released_on: date | None, filed_on: date, law: ReturnWindow | None
) -> tuple[bool, date | None, date | None]:
    """(within the window, last day of the window, goods back by)."""
    if released_on is None or law is None or law.window_days is None:
        return False, None, None
    ends = released_on + timedelta(days=law.window_days)
    back = released_on + timedelta(days=law.goods_back_days) if law.goods_back_days else None
    return filed_on <= ends, ends, back


def refund_lines(
    assessment: Assessment,
    quantities: Sequence[int],
    items: Sequence[ReturnedItem],
    whole_parcel: bool,
) -> list[RefundLine]:
    """Each charge on a returned item, pro rata to the quantity returned, rounded half up to
    the currency; charges on the whole consignment only when the whole parcel comes back."""
    share = {it.item: Decimal(it.quantity) / Decimal(quantities[it.item]) for it in items}
    out: list[RefundLine] = []
    for ch in assessment.charges:
        if ch.item is None:
            if whole_parcel and ch.amount:
                out.append(RefundLine(None, ch.kind, ch.rate, ch.amount))
            continue
        if ch.item in share and ch.amount:
            amount = round_amount(ch.amount * share[ch.item], assessment.currency)
            if amount:
                out.append(RefundLine(ch.item, ch.kind, ch.rate, amount))
    return out


def returned_share(
    values: Sequence[Decimal], quantities: Sequence[int], items: Sequence[ReturnedItem]
) -> Decimal:
    """Share of the parcel's goods value that comes back (0..1)."""
    total = sum(values, ZERO)
    if total <= 0:
        return ZERO
    back = sum(
        (values[it.item] * Decimal(it.quantity) / Decimal(quantities[it.item]) for it in items),
        ZERO,
    )
    return back / total
