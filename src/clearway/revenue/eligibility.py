"""Who may file the reduced data set: only low-value parcels without excise goods.

The reduced data set (EU H7 style) is the destination's concession for consignments of
negligible value: the value limit is the pack's `irg.low_value_threshold` (EUR 150 intrinsic
value in the EU, Delegated Regulation (EU) 2015/2446 Art. 143a), and goods subject to excise
(`excise.headings`) are excluded whatever their value. A parcel over the limit needs the full
data set; the problem names the threshold, its legal reference and the parcel's value in the
threshold's currency.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from clearway.domain.filing import FilingDocument
from clearway.kernel.errors import Problem
from clearway.revenue.rules import Rules

NOT_ELIGIBLE = "data_set_not_eligible"


def reduced_data_set_problems(
    doc: FilingDocument, rules: Rules, rate: Callable[[str], Decimal | None]
) -> list[Problem]:
    """Why `doc` may not use the reduced data set under `rules` (empty when it may); `rate`
    converts the filing's currency into another at the customs rate (None: no rate that day).
    An H7 declaration is judged by its own rules (`clearway.ingestion.dms.eligibility`)."""
    h7 = doc.declaration is not None and doc.declaration.procedure_category == "H7"
    if doc.data_set != "reduced" or h7:
        return []
    out: list[Problem] = []
    headings = rules.value("excise.headings") or []
    for i, item in enumerate(doc.items):
        code = (item.hs_code or "").replace(".", "")
        hit = next((h for h in headings if code.startswith(h)), None)
        if hit is not None:
            out.append(
                Problem(
                    f"/items/{i}/hs_code",
                    NOT_ELIGIBLE,
                    f"goods of heading {hit} are subject to excise in {rules.jurisdiction}: "
                    "the reduced data set does not apply; file the full data set",
                )
            )
    limit = rules.value("irg.low_value_threshold")
    if limit is None:
        return out
    value = _value(doc, limit.get("basis"))
    currency = str(limit["currency"])
    factor = rate(currency)
    if factor is None:
        return out  # no rate that day: the assessment flags the parcel for an officer
    converted = value * factor
    amount = Decimal(str(limit["amount"]))
    if converted > amount:
        period = rules.periods["irg.low_value_threshold"]
        reference = period.reference if period is not None else "irg.low_value_threshold"
        out.append(
            Problem(
                "/data_set",
                NOT_ELIGIBLE,
                f"the reduced data set is for parcels up to {amount} {currency} "
                f"({limit.get('basis', 'intrinsic')} value, {reference}); this one is "
                f"{converted.quantize(Decimal('0.01'))} {currency}: file the full data set",
            )
        )
    return out


def _value(doc: FilingDocument, basis: object) -> Decimal:
    value = doc.intrinsic_value
    if basis == "customs_value":
        value += (doc.transport_cost or Decimal(0)) + (doc.insurance_cost or Decimal(0))
    return value
