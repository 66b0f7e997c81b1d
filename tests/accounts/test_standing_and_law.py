"""AEO standing lowers lanes that rules did not force; registrations drive the revenue hook;
the accounts legislation is dated data that refuses malformed files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from clearway.accounts.legislation import LegislationError, default_legislation, parse
from clearway.accounts.standing import TrustedTraderSelector
from clearway.domain.decision import Decision, Reason
from clearway.domain.filing import from_builtins
from clearway.domain.ports import AssessmentRequest, RiskInput
from clearway.wiring.services import Services
from tests.conftest import make_filing

DAY = date(2026, 11, 2)


class _Fixed:
    """A selector that answers with given decisions (the risk port's shape)."""

    def __init__(self, decisions: list[Decision]) -> None:
        self.decisions = decisions

    def decide_batch(self, batch: Sequence[RiskInput]) -> list[Decision]:
        return [msgspec.structs.replace(d, reasons=list(d.reasons)) for d in self.decisions]


def _input(number: str) -> RiskInput:
    doc = from_builtins(make_filing(collection={"model": "vendor", "registration_number": number}))
    return RiskInput("cns_1", doc, DAY, "Mercato Global", "platform")


def test_aeo_lowers_point_lanes_only(sqlite_services: Services) -> None:
    svc = sqlite_services
    assert svc.accounts is not None
    desk = svc.accounts.accounts
    svc.operators.ensure("Mercato Global", "platform")
    desk.register(
        operator="Mercato Global",
        number="IM2760000001",
        scheme="ioss",
        jurisdiction="EU",
        valid_from=date(2026, 1, 1),
        aeo=True,
    )
    desk.register(
        operator="Mercato Global",
        number="IM2760000009",
        scheme="ioss",
        jurisdiction="EU",
        valid_from=date(2026, 1, 1),
    )
    points = Decision(lane="yellow", reasons=[Reason("validation", "vague", "vague", 20.0)])
    forced = Decision(
        lane="yellow", reasons=[Reason("rule", "DG", "batteries", 30, None, "yellow")]
    )
    sample = Decision(lane="yellow", random_sample=True)
    red = Decision(lane="red")
    inputs = [_input("IM2760000001")] * 4
    got = TrustedTraderSelector(_Fixed([points, forced, sample, red]), desk.registry).decide_batch(
        inputs
    )
    assert [d.lane for d in got] == ["green", "yellow", "yellow", "yellow"]
    assert got[0].reasons[-1].source == "account" and got[0].reasons[-1].code == "AEO"
    # not AEO, or AEO suspended: nothing changes
    plain = TrustedTraderSelector(_Fixed([points]), desk.registry)
    assert plain.decide_batch([_input("IM2760000009")])[0].lane == "yellow"
    desk.set_registration("IM2760000001", status="suspended", reason="audit")
    assert plain.decide_batch([_input("IM2760000001")])[0].lane == "yellow"


def test_registration_standing_feeds_the_collection_fallback(sqlite_services: Services) -> None:
    svc = sqlite_services
    assert svc.accounts is not None
    desk = svc.accounts.accounts
    assert desk.registry.status("IM2760000001", DAY) == "unverified"  # no registry in use yet
    svc.operators.ensure("Mercato Global", "platform")
    desk.register(
        operator="Mercato Global",
        number="IM2760000001",
        scheme="ioss",
        jurisdiction="EU",
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    assert desk.registry.status("IM2760000001", DAY) == "valid"
    assert desk.registry.status("IM2760000001", date(2027, 1, 1)) == "invalid"  # expired
    assert desk.registry.status("IM2760000002", DAY) == "invalid"  # unknown
    desk.set_registration("IM2760000001", status="suspended", reason="missed returns")
    assert desk.registry.status("IM2760000001", DAY) == "invalid"
    a = svc.assessor.assess_batch  # the pipeline's assessor carries the hook
    doc = from_builtins(make_filing())
    out = a([AssessmentRequest("cns_1", doc, DAY)])[0]
    assert out.collection_model == "consumer"
    assert "registration_number_invalid" in out.flags and out.due_at_border > Decimal(0)


def test_legislation_is_dated_data() -> None:
    law = default_legislation()
    assert law.read("CN", "returns.window_days", date(2026, 1, 1)).value == 30  # type: ignore[union-attr]
    assert law.read("CN", "returns.window_days", date(2018, 12, 31)) is None
    assert law.read("DE", "returns.restores_quota", DAY).value is False  # type: ignore[union-attr]
    assert law.read("US", "returns.window_days", DAY) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"returns.window_days": [{"from": date(2020, 1, 1), "value": 30}]}, "reference"),
        (
            {
                "returns.window_days": [
                    {"from": date(2020, 1, 1), "value": -1, "reference": "https://x"}
                ]
            },
            "positive",
        ),
        ({"returns.windowdays": []}, "unknown parameter"),
        (
            {
                "returns.window_days": [
                    {"from": date(2020, 1, 1), "value": 30, "reference": "https://x"},
                    {"from": date(2020, 6, 1), "value": 20, "reference": "https://x"},
                ]
            },
            "overlap",
        ),
    ],
)
def test_bad_legislation_is_refused_with_the_file_named(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(LegislationError, match=message) as err:
        parse({"countries": ["CN"], "parameters": params}, "cn.yaml")
    assert "cn.yaml" in str(err.value)
