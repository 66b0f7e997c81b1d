import msgspec

from clearway.domain.filing import decode_filing, from_builtins
from clearway.domain.structural import decode_problems
from clearway.domain.validation import check_filing, is_vague
from tests.conftest import make_filing

SERVED = frozenset({"DE", "FR", "GB", "US"})


def _problems(**overrides: object) -> dict[str, str]:
    doc = from_builtins(make_filing(**overrides))
    return {p.path: p.code for p in check_filing(doc, served=SERVED)}


def test_a_good_filing_has_no_problems() -> None:
    assert _problems() == {}


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = _problems(
        destination_country="XX",
        currency="EUX",
        transport_document="LX123456784CN",
        items=[
            {
                "description": "gift",
                "hs_code": "999999",
                "quantity": 0,
                "value": "-1",
                "origin_country": "ZZ",
                "net_mass_kg": "0",
            },
        ],
    )
    assert found == {
        "/destination_country": "country_unknown",
        "/currency": "currency_unknown",
        "/transport_document": "s10_invalid",
        "/items/0/description": "vague_description",
        "/items/0/hs_code": "hs_unknown",
        "/items/0/quantity": "range",
        "/items/0/value": "negative",
        "/items/0/origin_country": "country_unknown",
        "/items/0/net_mass_kg": "range",
    }


def test_type_errors_are_all_listed_when_the_typed_decode_fails() -> None:
    body = msgspec.json.encode(
        {"filer_reference": 5, "mode": "boat", "items": [{"value": "abc", "quantity": "two"}]}
    )
    found = {(p.path, p.code) for p in decode_problems(body)}
    assert found == {
        ("/filer_reference", "type"),
        ("/mode", "enum"),
        ("/transport_document", "required"),
        ("/destination_country", "required"),
        ("/items/0/description", "required"),
        ("/items/0/value", "type"),
        ("/items/0/quantity", "type"),
    }


def test_malformed_json_is_one_clear_problem() -> None:
    [p] = decode_problems(b'{"filer_reference": ')
    assert p.code == "malformed_json"


def test_unknown_fields_are_refused_so_typos_do_not_pass_silently() -> None:
    body = msgspec.json.encode({**make_filing(), "consigne": {}})
    assert ("/consigne", "unknown_field") in {(p.path, p.code) for p in decode_problems(body)}


def test_each_data_set_requires_its_elements() -> None:
    item = {"description": "Cotton T-shirt, printed", "quantity": 1}
    pre = from_builtins(make_filing(data_set="pre_loading", items=[item], consignor=None))
    assert {p.path for p in check_filing(pre, served=SERVED)} == {"/consignor/name"}
    full = from_builtins(make_filing(data_set="full", items=[item]))
    missing = {p.path for p in check_filing(full, served=SERVED)}
    assert {
        "/items/0/value",
        "/items/0/hs_code",
        "/items/0/origin_country",
        "/items/0/net_mass_kg",
    } <= missing


def test_totals_and_mass_inconsistencies_are_warnings_not_rejections() -> None:
    doc = from_builtins(
        make_filing(order={"id": "O", "total": "270.00"}, payment={"id": "P", "amount": "270.00"})
    )
    [p] = check_filing(doc, served=SERVED)
    assert (p.path, p.code, p.severity) == ("/order/total", "totals_mismatch", "warning")
    doc = from_builtins(make_filing(payment={"id": "P", "amount": "2.74"}))
    [p] = check_filing(doc, served=SERVED)
    assert (p.path, p.code) == ("/payment/amount", "totals_mismatch")
    heavy = make_filing()
    heavy["items"][0]["net_mass_kg"] = "40"
    codes = {p.code for p in check_filing(from_builtins(heavy), served=SERVED)}
    assert "mass_implausible" in codes


def test_destination_without_a_jurisdiction_pack_is_refused() -> None:
    assert _problems(destination_country="JP") == {"/destination_country": "destination_not_served"}


def test_vague_descriptions() -> None:
    assert is_vague("Gift!")
    assert is_vague("spare parts")
    assert not is_vague("Bicycle spare parts: brake pads")
    assert not is_vague("Cotton T-shirt")


def test_amounts_decode_exactly_from_strings_and_numbers() -> None:
    doc = decode_filing(msgspec.json.encode({**make_filing(), "transport_cost": 0.1}))
    assert str(doc.transport_cost) == "0.1"


def test_non_finite_and_absurd_numbers_are_problems_not_crashes() -> None:
    doc = make_filing()
    doc["items"][0]["value"] = "NaN"
    doc["items"][1]["net_mass_kg"] = "-Infinity"
    doc["transport_cost"] = "1e9999"
    found = {(p.path, p.code) for p in check_filing(from_builtins(doc), served=SERVED)}
    assert found == {
        ("/items/0/value", "not_a_number"),
        ("/items/1/net_mass_kg", "not_a_number"),
        ("/transport_cost", "range"),
    }


def test_texts_longer_than_storage_holds_are_problems() -> None:
    doc = make_filing(office="X" * 33, order={"id": "O" * 101, "total": "27.40"})
    doc["consignee"]["name"] = "N" * 151
    found = {(p.path, p.code) for p in check_filing(from_builtins(doc), served=SERVED)}
    assert {("/office", "length"), ("/order/id", "length"), ("/consignee/name", "length")} <= found


def test_negative_order_and_payment_amounts_are_refused() -> None:
    doc = make_filing(order={"id": "O", "total": "-27.40"}, payment={"id": "P", "amount": "-27.40"})
    found = {(p.path, p.code, p.severity) for p in check_filing(from_builtins(doc), served=SERVED)}
    assert ("/order/total", "negative", "error") in found
    assert ("/payment/amount", "negative", "error") in found


def test_the_legal_date_cannot_be_chosen_freely() -> None:
    from datetime import date

    today = date(2026, 11, 2)
    future = check_filing(
        from_builtins(make_filing(legal_date="2026-12-01")), served=SERVED, today=today
    )
    assert [(p.code, p.severity) for p in future] == [("legal_date_future", "error")]
    back = check_filing(
        from_builtins(make_filing(legal_date="2026-06-30")), served=SERVED, today=today
    )
    assert [(p.code, p.severity) for p in back] == [("legal_date_backdated", "warning")]
    assert check_filing(from_builtins(make_filing()), served=SERVED, today=today) == []
