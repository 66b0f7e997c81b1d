from __future__ import annotations

from risk_factories import make_input, make_item

from clearway.domain.filing import FilingDocument, Item
from clearway.domain.ports import RiskInput
from clearway.risk.selector import RiskSelector

SEL = RiskSelector.load_default(sample_rate=1.0)  # sampling never applies to referrals


def refer(*inputs: RiskInput) -> list[str | None]:
    return [d.referral for d in SEL.decide_batch(list(inputs))]


def test_complete_clean_filing_is_assessment_complete() -> None:
    [d] = SEL.decide_batch([make_input(data_set="pre_loading")])
    assert d.referral == "assessment_complete"
    assert d.lane is None
    assert d.random_sample is False


def test_do_not_load_for_explosives_and_firearms() -> None:
    assert refer(
        make_input(1, data_set="pre_loading", items=[make_item("signal flares", "360490")]),
        make_input(2, data_set="pre_loading", items=[make_item("rifle scope and ammo", None)]),
    ) == ["do_not_load", "do_not_load"]


def test_screening_for_sanctioned_party_and_dangerous_goods() -> None:
    assert refer(
        make_input(1, data_set="pre_loading", consignee="BANCO NACIONAL DE CUBA"),
        make_input(2, data_set="pre_loading", items=[make_item("power bank 20000mAh", "850760")]),
    ) == ["request_for_screening", "request_for_screening"]


def test_information_for_vague_or_missing_data() -> None:
    bare = FilingDocument(
        filer_reference="r",
        transport_document="1234",
        destination_country="FR",
        items=[Item(description="goods")],
        data_set="pre_loading",
        mode="express",
    )
    d = SEL.decide_batch(
        [
            RiskInput(
                consignment_id="x",
                document=bare,
                legal_date=make_input().legal_date,
                filer="dhl",
                filer_role="carrier",
            )
        ]
    )[0]
    assert d.referral == "request_for_information"
    paths = {r.path for r in d.reasons if r.code == "security_data_missing"}
    assert {"consignor/name", "consignee/address", "items/hs_code"} <= paths
    assert "DQ-VAGUE-DESCRIPTION" in {r.code for r in d.reasons}


def test_mixed_batch_gets_referrals_and_lanes() -> None:
    decisions = SEL.decide_batch([make_input(1, data_set="pre_loading"), make_input(2)])
    assert decisions[0].referral == "assessment_complete" and decisions[0].lane is None
    assert decisions[1].lane is not None and decisions[1].referral is None


def test_a_two_character_chinese_description_is_not_missing() -> None:
    def missing(description: str) -> set[str]:
        item = make_item(description, "040221")
        [d] = SEL.decide_batch([make_input(data_set="pre_loading", items=[item])])
        return {r.path for r in d.reasons if r.code == "security_data_missing"}

    assert "items/description" not in missing("奶粉")  # milk powder
    assert "items/description" in missing("ab")
