"""Consolidated declaration arithmetic: totals reconcile to the cent, reports line by line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearway.accounts.declarations import (
    grand_total,
    lines_of,
    parse_report,
    reconcile,
    totals_of,
)
from clearway.accounts.model import ReportLine
from clearway.domain.assessment import Assessment, Charge
from clearway.kernel.errors import InvalidInput

RATES = {
    "vat": ["VAT 19%", "VAT 21%", "VAT 13% × 0.7"],
    "duty": ["EUR 3 per subheading", "12%"],
    "consumption_tax": ["15% × 0.7"],
    "fee": [None, "FR fee: EUR 2 per item"],
}

cents = st.integers(min_value=0, max_value=5_000_00).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    charges = []
    for item in range(draw(st.integers(1, 4))):
        for kind in draw(
            st.lists(st.sampled_from(sorted(RATES)), min_size=1, max_size=3, unique=True)
        ):
            charges.append(
                Charge(
                    kind,
                    draw(cents),
                    rate=draw(st.sampled_from(RATES[kind])),
                    item=item if kind != "fee" or draw(st.booleans()) else None,
                )
            )
    return Assessment(
        "EUR",
        "EU-DE",
        "2026-11-02",
        3,
        "vendor",
        "vendor",
        Decimal("20"),
        Decimal("20"),
        charges,
        sum((c.amount for c in charges), Decimal(0)),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(assessments(), min_size=1, max_size=30))
def test_totals_per_tax_and_rate_reconcile_with_the_parcel_assessments(
    parcels: list[Assessment],
) -> None:
    lines = [
        ln
        for i, a in enumerate(parcels)
        for ln in lines_of(f"cns_{i}", f"LX{i:09d}CN", "IM2760000001", a)
    ]
    totals = totals_of(lines)
    assert grand_total(totals) == sum((a.total for a in parcels), Decimal(0))
    for kind, rates in RATES.items():
        for rate in rates:
            expected = sum(
                (c.amount for a in parcels for c in a.charges if c.kind == kind and c.rate == rate),
                Decimal(0),
            )
            got = [t.amount for t in totals if t.kind == kind and t.rate == rate]
            assert (got[0] if got else Decimal(0)) == expected
    # The operator's report of exactly these lines reconciles without a difference
    report = [ReportLine(ln.transport_document, ln.kind, ln.amount) for ln in lines]
    assert reconcile(lines, report) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(assessments(), min_size=2, max_size=10), st.data())
def test_one_changed_line_is_one_difference(parcels: list[Assessment], data: st.DataObject) -> None:
    lines = [
        ln for i, a in enumerate(parcels) for ln in lines_of(f"cns_{i}", f"LX{i:09d}CN", None, a)
    ]
    if not lines:
        return
    pick = data.draw(st.integers(0, len(lines) - 1))
    delta = data.draw(st.sampled_from([Decimal("0.01"), Decimal("-0.01"), Decimal("5")]))
    report = [
        ReportLine(ln.transport_document, ln.kind, ln.amount + (delta if i == pick else 0))
        for i, ln in enumerate(lines)
    ]
    diffs = reconcile(lines, report)
    assert len(diffs) == 1
    assert diffs[0].transport_document == lines[pick].transport_document
    assert diffs[0].difference == delta and diffs[0].code == "amount_differs"


def test_missing_and_unknown_parcels_are_listed() -> None:
    a = Assessment(
        "EUR",
        "EU-DE",
        "2026-11-02",
        3,
        "vendor",
        "vendor",
        Decimal(20),
        Decimal(20),
        [Charge("vat", Decimal("3.80"), rate="VAT 19%", item=0)],
        Decimal("3.80"),
    )
    lines = lines_of("cns_1", "LX000000001CN", None, a) + lines_of(
        "cns_2", "LX000000002CN", None, a
    )
    report = [
        ReportLine("LX000000001CN", "vat", Decimal("3.80")),
        ReportLine("LX999999999CN", "vat", Decimal("1.00")),
    ]
    assert [(d.transport_document, d.code) for d in reconcile(lines, report)] == [
        ("LX000000002CN", "missing_from_report"),
        ("LX999999999CN", "not_recorded_by_customs"),
    ]


def test_report_parsing_lists_every_bad_row() -> None:
    good = parse_report("csv", "\ufefftransport_document,kind,amount\nlx000000001cn, VAT ,3.80\n")
    assert good == [ReportLine("LX000000001CN", "vat", Decimal("3.80"))]
    with pytest.raises(InvalidInput) as bad:
        parse_report("csv", "transport_document,kind,amount\nA,vat,x\n,vat,1\nB,vat,NaN\n")
    assert [p.path for p in bad.value.problems] == [
        "/lines/0/amount",
        "/lines/1",
        "/lines/2/amount",
    ]
    with pytest.raises(InvalidInput):
        parse_report("csv", "td,kind\nA,vat\n")
    with pytest.raises(InvalidInput):
        parse_report("xml", "<x/>")
