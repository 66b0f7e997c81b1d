"""Text rules by script, and the CEB621 inventory's own data-set profile."""

from __future__ import annotations

import msgspec
import pytest

from clearway.domain.filing import FilingDocument, Item, Party, from_builtins
from clearway.domain.text import description_length_problem, script_of
from clearway.domain.validation import check_filing, is_vague


@pytest.mark.parametrize(
    ("text", "script"),
    [("Milk powder", "latin"), ("奶粉", "cjk"), ("化粧水", "cjk"), ("선물", "cjk"), ("Ü", "latin")],
)
def test_script_of(text: str, script: str) -> None:
    assert script_of(text) == script


@pytest.mark.parametrize("text", ["奶粉", "面膜", "手表", "tea", "Milk powder 900 g", "化粧水"])
def test_real_descriptions_have_a_length_that_passes(text: str) -> None:
    assert description_length_problem(text) is None


@pytest.mark.parametrize("text", ["b", "ab", "奶", "x" * 513])
def test_too_short_or_long(text: str) -> None:
    assert description_length_problem(text) is not None


@pytest.mark.parametrize(
    "text", ["包裹", "礼品", "商品", "其他", "선물", "サンプル", "Gift", "parts"]
)
def test_vague_in_every_script(text: str) -> None:
    assert is_vague(text)


def test_specific_chinese_goods_are_not_vague() -> None:
    assert not is_vague("婴儿奶粉")
    assert not is_vague("面膜")


def _inventory(**changes: object) -> FilingDocument:
    doc = from_builtins(
        {
            "filer_reference": "CW0001",
            "transport_document": "SF1234567890",
            "destination_country": "CN",
            "mode": "express",
            "currency": "CNY",
            "consignee": {"name": "王芳", "address": "上海市黄浦区南京东路8号", "country": "CN"},
            "buyer": {"name": "王芳", "identifier": "110101199001011234"},
            "items": [
                {
                    "description": "奶粉",
                    "hs_code": "1901101000",
                    "quantity": 2,
                    "value": "398.00",
                    "origin_country": "NL",
                }
            ],
        }
    )
    return msgspec.structs.replace(doc, **changes) if changes else doc


def test_an_inventory_is_checked_against_what_ceb621_carries() -> None:
    # no consignor, no consignee city, no net mass: CEB621 does not carry them
    assert [p for p in check_filing(_inventory(), kind="inventory") if p.severity == "error"] == []
    # the same document as a full declaration needs them
    full = {p.path for p in check_filing(_inventory()) if p.severity == "error"}
    assert {"/consignor/name", "/consignee/city", "/items/0/net_mass_kg"} <= full


def test_an_inventory_needs_the_orderers_id_number() -> None:
    doc = _inventory(buyer=Party(name="王芳"))
    errors = [p for p in check_filing(doc, kind="inventory") if p.severity == "error"]
    assert [(p.path, p.code) for p in errors] == [("/buyer/identifier", "required_by_data_set")]


def test_a_one_letter_name_refuses_a_declaration_but_only_warns_on_an_order() -> None:
    doc = _inventory(items=[Item(description="b", quantity=1, hs_code="1901101000")])
    [declared] = [p for p in check_filing(doc, kind="inventory") if p.path.endswith("description")]
    assert declared.severity == "error"
    [ordered] = [p for p in check_filing(doc, kind="order") if p.path.endswith("description")]
    assert ordered.severity == "warning"
