from __future__ import annotations

from datetime import date
from decimal import Decimal

from clearway.domain.ports import AssessmentRequest, Assessor
from clearway.revenue.assessor import PackAssessor

from .factories import filing, item


def test_implements_the_assessor_port(assessor: PackAssessor) -> None:
    port: Assessor = assessor
    covered = port.jurisdictions()
    assert {"DE", "FR", "NL", "IT", "ES", "PL", "IE", "BE", "AT", "SE", "DK"} <= covered
    assert {"GB", "US", "AU", "CN"} <= covered


def test_batch_keeps_order_and_survives_bad_parcels(assessor: PackAssessor) -> None:
    good = filing("DE", items=[item("100.00")])
    unknown_country = filing("ZZ")
    no_value = filing("FR", items=[{"description": "gift box"}])
    bad_currency = filing("DE", currency="XXX")
    batch = [
        AssessmentRequest(str(i), doc, date(2024, 5, 6))
        for i, doc in enumerate([good, unknown_country, no_value, bad_currency])
    ]
    out = assessor.assess_batch(batch)
    assert [a.jurisdiction for a in out] == ["EU-DE", "ZZ", "EU-FR", "EU-DE"]
    assert out[0].total == Decimal("19.00")  # 100 × 19 %
    assert "jurisdiction_not_covered" in out[1].flags
    assert "value_missing" in out[2].flags and out[2].total == 0
    assert "fx_rate_unavailable" in out[3].flags
    assert "manual_assessment_required" in out[3].flags
    assert out[3].trace[0].name == "assessment.fallback"


def test_unknown_national_code_is_flagged_not_raised(assessor: PackAssessor) -> None:
    doc = filing("US", "USD", mode="express", items=[item("300.00", hs="9999999999")])
    a = assessor.assess(doc, date(2025, 9, 2))
    assert "hs_code_unknown" in a.flags
    assert "manual_assessment_required" in a.flags
    assert any(t.name == "duty.rate" and t.item == 0 for t in a.trace)


def test_every_charge_is_traced_to_a_referenced_parameter(assessor: PackAssessor) -> None:
    a = assessor.assess(filing("PL", items=[item("100.00")]), date(2024, 5, 6))
    names = {t.name: t for t in a.trace}
    assert names["tax.standard_rate"].value == "0.23"
    assert names["tax.standard_rate"].reference.startswith("https://")
    fx = names["fx.EUR.PLN"]
    # EU: the ECB rates of the penultimate Wednesday of April apply throughout May (IA art. 146)
    assert fx.at == "2024-04-17" and fx.reference is not None and "ecb" in fx.reference
    assert a.currency == "PLN"


def test_fx_on_a_weekend_uses_the_last_publication(assessor: PackAssessor) -> None:
    a = assessor.assess(filing("GB", items=[item("100.00")]), date(2024, 5, 5))  # a Sunday
    fx = next(t for t in a.trace if t.name == "fx.EUR.GBP")
    assert fx.at == "2024-05-03"  # Friday's ECB publication


def test_registration_hook_rejects_an_invalid_number() -> None:
    seen: list[str] = []

    def registry(number: str, on: date) -> str | None:
        seen.append(number)
        return "invalid"

    assessor = PackAssessor.load_default(registration_status=registry)
    doc = filing("DE", collection={"model": "vendor", "registration_number": "IM2760000001"})
    a = assessor.assess(doc, date(2024, 5, 6))
    assert seen == ["IM2760000001"]
    assert a.collection_model == "consumer"
    assert "registration_number_invalid" in a.flags
    assert a.payable_by == "consumer"
