"""De minimis what-if on four stored parcels, every figure computed by hand.

All four go to Germany on 2026-11-02 (VAT 19 %; the EUR 3 duty per tariff subheading is in force
for sales up to EUR 150; above, the CET rate of 6109 10: 12 %), in EUR, by post:
  P1 T-shirt EUR 20, consumer        baseline duty 3, VAT 19 % × 23 = 4.37       total 7.37
  P2 T-shirt EUR 100, consumer       baseline duty 3, VAT 19 % × 103 = 19.57     total 22.57
  P3 T-shirt EUR 200, consumer       baseline duty 24, VAT 19 % × 224 = 42.56    total 66.56
  P4 T-shirt EUR 40, vendor (IOSS)   baseline duty 3, VAT 19 % × 43 = 8.17       total 11.17
P5 is T-shirt EUR 140 + EUR 15 transport, consumer: duty 3, VAT 19 % × 158 = 30.02, total 33.02.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.domain.filing import from_builtins
from clearway.statistics.snapshot import Snapshot
from clearway.statistics.whatif import StudyError, load_study, revenue_delta, run_study
from clearway.storage.export import export
from clearway.wiring.services import Services
from tests.conftest import make_filing

STUDY = Path(__file__).parent / "data" / "eu_2021_relief.yaml"
D = Decimal


def _parcel(n: int, td: str, value: str, model: str, transport: str | None = None) -> Any:
    doc = make_filing(
        filer_reference=f"WI-{n}",
        transport_document=td,
        # over EUR 150 the reduced data set is not allowed (revenue/eligibility.py)
        data_set="full" if Decimal(value) > 150 else "reduced",
        order=None,
        payment=None,
        transport_cost=transport,
        collection={"model": model, "registration_number": "IM2760000001"}
        if model == "vendor"
        else {"model": model},
        items=[
            {
                "description": "Cotton T-shirt",
                "hs_code": "610910",
                "quantity": 1,
                "value": value,
                "origin_country": "CN",
                "net_mass_kg": "0.20",
            }
        ],
    )
    if transport is None:
        doc.pop("transport_cost")
    return doc


@pytest.fixture
def study_snapshot(services: Services, tmp_path: Path) -> Path:
    docs = [
        _parcel(1, "LX000000014CN", "20.00", "consumer"),
        _parcel(2, "LX000000028CN", "100.00", "consumer"),
        _parcel(3, "LX000000031CN", "200.00", "consumer"),
        _parcel(4, "LX000000045CN", "40.00", "vendor"),
        _parcel(5, "LX000000059CN", "140.00", "consumer", transport="15.00"),
    ]
    filer = Filer(services.operators.ensure("Shop", "platform"), "Shop", "platform")
    results = services.pipeline.process(filer, [Submission(from_builtins(d)) for d in docs])
    assert [r.outcome for r in results] == ["accepted"] * 5, [r.problems for r in results]
    export(services.engine, tmp_path / "snap")
    return tmp_path / "snap"


def test_de_minimis_scenarios_match_hand_computation(study_snapshot: Path) -> None:
    with Snapshot(study_snapshot) as snap:
        base, relief, consumer, vat25 = run_study(snap, load_study(STUDY))

    # Baseline (packs as shipped): totals 7.37 + 22.57 + 66.56 + 11.17 + 33.02
    assert base.name == "baseline" and base.parcels == 5
    assert base.revenue["EUR"]["duty"] == D("3") * 4 + D("24")
    assert base.revenue["EUR"]["tax"] == D("4.37") + D("19.57") + D("42.56") + D("8.17") + D(
        "30.02"
    )
    assert base.revenue["EUR"]["total"] == D("140.69")
    assert base.revenue["EUR"]["at_border"] == D("140.69") - D("11.17")  # P4 is vendor-collected
    assert (base.dutiable, base.taxable, base.owing) == (5, 5, 5)
    # declarations: all five owe something at import (IRG 3) or are above EUR 150 (IRG 4);
    # border payments: the four consumer parcels; one periodic return for P4's IOSS number
    assert base.workload == {
        "declarations": 5,
        "border_payments": 4,
        "delivery_collections": 0,
        "periodic_returns": 1,
    }
    assert base.collection_cost == D("5") * 1 + D("4") * 2 + D("10")  # 23.00
    assert base.cost_per_parcel == D("4.6000")

    # relief_2021: no duty at or below EUR 150 intrinsic, no VAT at or below EUR 22 intrinsic.
    # P1 owes nothing; P2 VAT 19.00; P3 duty 24 + VAT 42.56; P4 VAT 7.60 (vendor); P5 VAT 19 % ×
    # 155 = 29.45 (transport is in the VAT base, the relief reads the intrinsic value 140).
    assert relief.revenue["EUR"]["duty"] == D("24.00")
    assert relief.revenue["EUR"]["tax"] == D("19.00") + D("42.56") + D("7.60") + D("29.45")
    assert relief.revenue["EUR"]["total"] == D("122.61")
    assert revenue_delta(relief, base) == {"EUR": D("122.61") - D("140.69")}
    assert (relief.dutiable, relief.taxable, relief.owing) == (1, 4, 4)
    assert (relief.became_dutiable, relief.no_longer_dutiable) == (0, 4)
    assert (relief.became_taxable, relief.no_longer_taxable) == (0, 1)
    # declarations: P2, P3, P5 (P1 nothing to collect: IRG 2; P4 vendor VAT only: IRG 2)
    assert relief.workload == {
        "declarations": 3,
        "border_payments": 3,
        "delivery_collections": 0,
        "periodic_returns": 1,
    }
    assert relief.collection_cost == D("3") + D("6") + D("10")
    assert relief.cost_per_owing_parcel == D("4.7500")  # 19 / 4

    # all_consumer: the same amounts; P4's tax now waits for payment at the border.
    assert consumer.revenue["EUR"]["total"] == base.revenue["EUR"]["total"]
    assert consumer.revenue["EUR"]["at_border"] == D("140.69")
    assert consumer.workload["border_payments"] == 5
    assert consumer.workload["periodic_returns"] == 0

    # de_vat_25_customs_value: relief on the customs value: P5's 140 + 15 = 155 is above 150 and
    # pays 12 % × 155 = 18.60 duty; VAT 25 % on value + duty: P1 5.00, P2 25.00, P3 56.00,
    # P4 10.00, P5 25 % × 173.60 = 43.40.
    assert vat25.revenue["EUR"]["duty"] == D("24.00") + D("18.60")
    assert vat25.revenue["EUR"]["tax"] == D("5.00") + D("25.00") + D("56.00") + D("10.00") + D(
        "43.40"
    )
    assert (vat25.became_dutiable, vat25.no_longer_dutiable) == (0, 3)


def test_study_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - name: x\n    declared_collection: barter\n", "utf-8")
    with pytest.raises(StudyError, match=r"bad.yaml:2: declared_collection"):
        load_study(bad)


def test_unknown_pack_parameter_in_a_scenario_fails_with_its_line(
    study_snapshot: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text(
        "scenarios:\n  - name: typo\n    packs:\n      EU:\n        duty.de_minimus:\n"
        "          - {from: 2018-01-01, value: null, reference: https://example.org}\n",
        "utf-8",
    )
    with (
        Snapshot(study_snapshot) as snap,
        pytest.raises(
            StudyError, match=r"typo.yaml:5: scenario 'typo': .*unknown parameter 'duty.de_minimus'"
        ),
    ):
        run_study(snap, load_study(bad))


def test_a_scenario_that_makes_parcels_unassessable_is_refused(
    study_snapshot: Path, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.yaml"
    gold.write_text(
        "scenarios:\n  - name: gold\n    packs:\n      EU:\n        duty.de_minimis:\n"
        "          - from: 2018-01-01\n"
        "            value: {amount: '150', currency: XAU, basis: intrinsic}\n"
        "            reference: https://example.org\n",
        "utf-8",
    )
    with (
        Snapshot(study_snapshot) as snap,
        pytest.raises(StudyError, match=r"scenario 'gold' leaves \d+ more parcels unassessable"),
    ):
        run_study(snap, load_study(gold))
