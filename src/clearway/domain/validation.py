"""Validation of canonical filings: every problem at once, each with its field path.

Two passes. `structural_problems` (`domain/structural.py`) walks a raw JSON value against the
filing schema (used when the fast typed decode fails, so the filer still sees every type error at
once); `decode_problems` names them for a body. `check_filing` applies
the semantic rules to a decoded document: codes, check digits, arithmetic, mass, vague
descriptions and the elements each data set requires. Errors reject the filing; warnings are kept
and become risk reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

import msgspec

from clearway.domain.filing import MAX_ITEMS, FilingDocument, Item, Party, encode
from clearway.domain.text import description_length_problem
from clearway.kernel import codes
from clearway.kernel.characters import may_hold_unsafe, unsafe_character
from clearway.kernel.decimals import decimal_problem
from clearway.kernel.errors import Problem
from clearway.kernel.strict_json import EARLIEST_DATE, LATEST_DATE

# Tolerance for order/payment totals against the items, as a share of the larger amount. A data
# quality threshold, not legislation: totals include shipping and rounding on most platforms.
TOTALS_TOLERANCE = Decimal("0.05")
MAX_ITEM_MASS_KG = Decimal(1000)
POSTAL_ITEM_MAX_KG = Decimal("31.5")  # UPU maximum weight of a postal parcel
MIN_VALUE_PER_KG = Decimal("0.05")  # below this per kg a consumer good is implausible


@cache
def vague_descriptions() -> frozenset[str]:
    text = resources.files("clearway.domain").joinpath("data", "vague_descriptions.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#"))


_PUNCT = re.compile(r"[^\w\s]+")


def is_vague(description: str) -> bool:
    words = _PUNCT.sub(" ", description.lower()).split()
    return not words or " ".join(words) in vague_descriptions()


# ---------------------------------------------------------------- semantic pass
# Partial legs of one consignment filed by different parties (China's three-document match,
# ICS2 multiple filing): what each must carry. A "declaration" is a complete filing.
LEG_KINDS = ("declaration", "inventory", "order", "payment", "waybill")
_PARTIAL_LEGS = frozenset({"order", "payment", "waybill"})
_LEGS_WITHOUT_TRANSPORT_DOCUMENT = frozenset({"order", "payment"})
_LEGS_WITHOUT_GOODS = frozenset({"payment", "waybill"})  # they name the parcel, not its goods
# A declaring leg with its own data-set profile: what its message carries, nothing more.
_KIND_PROFILES = {"inventory": "cn_inventory"}


def check_filing(
    doc: FilingDocument,
    *,
    served: frozenset[str] | None = None,
    today: date | None = None,
    kind: str = "declaration",
    encoded: bytes | None = None,
) -> list[Problem]:
    """Semantic problems of a decoded filing: errors and warnings, in document order.

    `kind` relaxes what a partial leg must carry: an order or payment record need not know the
    transport document, a payment record lists no goods, and no partial leg has to satisfy the
    data-set requirements on its own (the merged consignment is checked by matching).
    `encoded` is the document's `encode` when the caller has it already.
    """
    out = _number_problems(doc)
    if not _texts_safe(doc, encoded):
        _text_problems(doc, "", out)
    _date_problems(doc, out)
    if out:
        return out  # the remaining checks compare amounts and dates: they need sane ones
    _top(doc, served, today, out, kind)
    for name in ("consignor", "consignee", "seller", "platform"):
        party = getattr(doc, name)
        if party is not None:
            _party(party, f"/{name}", out)
    if kind not in _PARTIAL_LEGS:
        _required_by_data_set(doc, out, _KIND_PROFILES.get(kind, doc.data_set))
    currency_ok = codes.is_currency(doc.currency)
    for i, item in enumerate(doc.items):
        _item(item, i, doc, out, declared=kind not in _PARTIAL_LEGS)
    if currency_ok:
        _totals(doc, out)
    return out


def _decimals(doc: FilingDocument) -> list[tuple[str, Decimal | None]]:
    found: list[tuple[str, Decimal | None]] = [
        ("/transport_cost", doc.transport_cost),
        ("/insurance_cost", doc.insurance_cost),
        ("/gross_mass_kg", doc.gross_mass_kg),
        ("/order/total", doc.order.total if doc.order else None),
        ("/order/goods_value", doc.order.goods_value if doc.order else None),
        ("/order/tax", doc.order.tax if doc.order else None),
        ("/order/discount", doc.order.discount if doc.order else None),
        ("/payment/amount", doc.payment.amount if doc.payment else None),
    ]
    for i, item in enumerate(doc.items):
        found += [
            (f"/items/{i}/value", item.value),
            (f"/items/{i}/net_mass_kg", item.net_mass_kg),
            (f"/items/{i}/gross_mass_kg", item.gross_mass_kg),
            (f"/items/{i}/volume_litres", item.volume_litres),
            (f"/items/{i}/alcohol_percent", item.alcohol_percent),
            (f"/items/{i}/tobacco_grams", item.tobacco_grams),
        ]
    return found


def _number_problems(doc: FilingDocument) -> list[Problem]:
    """NaN, infinities, absurd magnitudes and precision decode as Decimals from any format;
    refuse them up front, by the one grammar's bounds (`clearway.kernel.decimals`)."""
    out = []
    for path, value in _decimals(doc):
        refused = None if value is None else decimal_problem(value, negative=True)
        if refused is not None:
            out.append(Problem(path, refused.code, refused.detail))
    return out


def _texts_safe(doc: FilingDocument, encoded: bytes | None = None) -> bool:
    """One scan of the encoded document: True when no text in it can hold an unsafe character
    (JSON escapes included), so the field-by-field walk that names the culprit is not needed."""
    if encoded is None:
        try:
            encoded = encode(doc)
        except UnicodeEncodeError:  # a lone surrogate: the walk names it
            return False
    return not may_hold_unsafe(encoded.decode())


def _text_problems(value: object, path: str, out: list[Problem]) -> None:
    """Control and direction characters in any text of the document, whatever its format."""
    if isinstance(value, str):
        why = unsafe_character(value)
        if why:
            out.append(Problem(path or "/", "unsafe_character", why))
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _text_problems(getattr(value, name), f"{path}/{name}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _text_problems(v, f"{path}/{i}", out)


def _date_problems(doc: FilingDocument, out: list[Problem]) -> None:
    days = {
        "/legal_date": doc.legal_date,
        "/order/placed_at": doc.order.placed_at.date()
        if doc.order and doc.order.placed_at
        else None,
    }
    for path, day in days.items():
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            out.append(
                Problem(path, "date_range", f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
            )


def _top(
    doc: FilingDocument,
    served: frozenset[str] | None,
    today: date | None,
    out: list[Problem],
    kind: str = "declaration",
) -> None:
    texts = {
        "/office": doc.office,
        "/master_document": doc.master_document,
        "/order/id": doc.order.id if doc.order else None,
        "/payment/id": doc.payment.id if doc.payment else None,
        "/payment/payer_name": doc.payment.payer_name if doc.payment else None,
    }
    for path, value in texts.items():
        _too_long(path, value, TEXT_LIMITS[path], out)
    if not doc.filer_reference.strip() or len(doc.filer_reference) > 100:
        out.append(Problem("/filer_reference", "length", "must be 1 to 100 characters"))
    td = doc.transport_document
    if not td and kind in _LEGS_WITHOUT_TRANSPORT_DOCUMENT:
        pass
    elif not td.strip() or len(td) > 50:
        out.append(Problem("/transport_document", "length", "must be 1 to 50 characters"))
    elif codes.looks_like_s10(td) or doc.mode == "post":
        why = codes.s10_problem(td)
        if why:
            out.append(Problem("/transport_document", "s10_invalid", why))
    else:
        why = codes.awb_problem(td)
        if why:
            out.append(Problem("/transport_document", "awb_invalid", why))
    if not codes.is_country(doc.destination_country):
        out.append(_not_country("/destination_country", doc.destination_country))
    elif served is not None and doc.destination_country not in served:
        out.append(
            Problem(
                "/destination_country",
                "destination_not_served",
                f"no jurisdiction pack for {doc.destination_country}; "
                f"served: {', '.join(sorted(served))}",
            )
        )
    if doc.dispatch_country is not None and not codes.is_country(doc.dispatch_country):
        out.append(_not_country("/dispatch_country", doc.dispatch_country))
    if not codes.is_currency(doc.currency):
        out.append(Problem("/currency", "currency_unknown", f"{doc.currency!r} is not ISO 4217"))
    amounts = {
        "/transport_cost": doc.transport_cost,
        "/insurance_cost": doc.insurance_cost,
        "/order/total": doc.order.total if doc.order else None,
        "/order/goods_value": doc.order.goods_value if doc.order else None,
        "/order/tax": doc.order.tax if doc.order else None,
        "/order/discount": doc.order.discount if doc.order else None,
        "/payment/amount": doc.payment.amount if doc.payment else None,
    }
    for path, amount in amounts.items():
        if amount is not None and amount < 0:
            out.append(Problem(path, "negative", "must not be negative"))
    if not doc.items and kind not in _LEGS_WITHOUT_GOODS:
        out.append(Problem("/items", "required", "at least one item is required"))
    elif len(doc.items) > MAX_ITEMS:
        out.append(Problem("/items", "too_many", f"at most {MAX_ITEMS} items per consignment"))
    pay_currency = doc.payment.currency if doc.payment is not None else None
    if pay_currency is not None and not codes.is_currency(pay_currency):
        out.append(Problem("/payment/currency", "currency_unknown", "not an ISO 4217 currency"))
    coll = doc.collection
    if coll is not None and coll.model == "vendor" and not coll.registration_number:
        out.append(
            Problem(
                "/collection/registration_number",
                "registration_number_missing",
                "vendor collection without a registration number: consumer collection applies",
                "warning",
            )
        )
    if today is not None and doc.legal_date is not None:
        _legal_date(doc.legal_date, today, out)


# The legal date chooses the law an amount is computed under, so filers may not pick it freely:
# never after the filing day (beyond a day of time zones), and a date long before it is a
# reason for an officer to look (orders normally ship within weeks).
LEGAL_DATE_AHEAD_DAYS = 1
LEGAL_DATE_BACK_DAYS = 31


def _legal_date(legal: date, today: date, out: list[Problem]) -> None:
    if (legal - today).days > LEGAL_DATE_AHEAD_DAYS:
        out.append(
            Problem(
                "/legal_date", "legal_date_future", "the legal date cannot be after the filing date"
            )
        )
    elif (today - legal).days > LEGAL_DATE_BACK_DAYS:
        out.append(
            Problem(
                "/legal_date",
                "legal_date_backdated",
                f"more than {LEGAL_DATE_BACK_DAYS} days before filing: the law of that day applies "
                "only if the goods were really supplied then",
                "warning",
            )
        )


def _not_country(path: str, code: str) -> Problem:
    return Problem(path, "country_unknown", f"{code!r} is not an ISO 3166 alpha-2 country code")


# Longest accepted text per field: what any real message needs, and what storage holds.
PARTY_LIMITS = {
    "name": 150,
    "address": 300,
    "city": 100,
    "postcode": 20,
    "country": 2,
    "identifier": 100,
    "email": 254,
}
TEXT_LIMITS = {
    "/office": 32,
    "/master_document": 50,
    "/order/id": 100,
    "/payment/id": 100,
    "/payment/payer_name": 150,
}


def _too_long(path: str, value: str | None, limit: int, out: list[Problem]) -> None:
    if value is not None and len(value) > limit:
        out.append(Problem(path, "length", f"at most {limit} characters"))


def _party(party: Party, path: str, out: list[Problem]) -> None:
    for name, limit in PARTY_LIMITS.items():
        _too_long(f"{path}/{name}", getattr(party, name), limit, out)
    if party.country is not None and not codes.is_country(party.country):
        out.append(_not_country(f"{path}/country", party.country))
    if party.email is not None and "@" not in party.email:
        out.append(Problem(f"{path}/email", "email_invalid", "not an e-mail address"))


def _item(
    item: Item, i: int, doc: FilingDocument, out: list[Problem], *, declared: bool = True
) -> None:
    p = f"/items/{i}"
    desc = item.description.strip()
    too_short_or_long = description_length_problem(desc)
    if too_short_or_long:
        # an order's product names are the platform's listing, checked against the declaration
        out.append(
            Problem(
                f"{p}/description", "length", too_short_or_long, "error" if declared else "warning"
            )
        )
    elif is_vague(desc):
        out.append(
            Problem(
                f"{p}/description",
                "vague_description",
                f"{desc!r} does not say what the goods are; name the article and its material",
                "warning",
            )
        )
    if item.hs_code is not None:
        why = codes.hs_problem(codes.normalise_hs(item.hs_code))
        if why:
            out.append(Problem(f"{p}/hs_code", "hs_unknown", why))
    _too_long(f"{p}/url", item.url, 2000, out)
    if item.quantity < 1 or item.quantity > 1_000_000:
        out.append(Problem(f"{p}/quantity", "range", "must be between 1 and 1,000,000"))
    if item.value is not None and item.value < 0:
        out.append(Problem(f"{p}/value", "negative", "must not be negative"))
    if item.origin_country is not None and not codes.is_country(item.origin_country):
        out.append(_not_country(f"{p}/origin_country", item.origin_country))
    _mass(item, p, doc, out)
    _excise_quantities(item, p, out)


def _excise_quantities(item: Item, p: str, out: list[Problem]) -> None:
    """Volume, strength and tobacco quantities measure excise: positive, strength a percentage."""
    for name in ("volume_litres", "tobacco_grams"):
        value = getattr(item, name)
        if value is not None and value <= 0:
            out.append(Problem(f"{p}/{name}", "range", "must be greater than 0"))
    if item.alcohol_percent is not None and not 0 <= item.alcohol_percent <= 100:
        out.append(Problem(f"{p}/alcohol_percent", "range", "must be between 0 and 100 (% vol)"))
    if item.alcohol_percent is not None and item.volume_litres is None:
        out.append(
            Problem(f"{p}/volume_litres", "required", "an alcoholic strength needs the volume")
        )
    if item.tobacco_sticks is not None and not 1 <= item.tobacco_sticks <= 10_000_000:
        out.append(Problem(f"{p}/tobacco_sticks", "range", "must be between 1 and 10,000,000"))


def _mass(item: Item, p: str, doc: FilingDocument, out: list[Problem]) -> None:
    mass = item.net_mass_kg
    if mass is None:
        return
    if mass <= 0:
        out.append(Problem(f"{p}/net_mass_kg", "range", "must be greater than zero"))
    elif mass > MAX_ITEM_MASS_KG:
        out.append(Problem(f"{p}/net_mass_kg", "range", f"over {MAX_ITEM_MASS_KG} kg per item"))
    elif doc.mode == "post" and mass > POSTAL_ITEM_MAX_KG:
        out.append(
            Problem(
                f"{p}/net_mass_kg",
                "mass_implausible",
                f"{mass} kg is over the {POSTAL_ITEM_MAX_KG} kg postal limit",
                "warning",
            )
        )
    elif item.value is not None and item.value / mass < MIN_VALUE_PER_KG and item.value > 0:
        out.append(
            Problem(
                f"{p}/net_mass_kg",
                "mass_implausible",
                f"value per kg {item.value / mass:.4f} {doc.currency} is implausibly low",
                "warning",
            )
        )


_REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    # data set -> (path, what) the filing must carry. ICS2-style pre-loading minimum (7+1),
    # H7-style reduced set, and the full set.
    "pre_loading": (("consignor", "name"), ("consignee", "name"), ("consignee", "address")),
    "reduced": (("consignee", "name"), ("consignee", "address"), ("consignee", "country")),
    "full": (
        ("consignor", "name"),
        ("consignee", "name"),
        ("consignee", "address"),
        ("consignee", "city"),
        ("consignee", "country"),
    ),
    # China's CEB621 inventory list: the orderer (name, ID number) and the delivery address;
    # no consignor, city or net mass per line
    "cn_inventory": (
        ("consignee", "name"),
        ("consignee", "address"),
        ("buyer", "name"),
        ("buyer", "identifier"),
    ),
}
_ITEM_REQUIRED: dict[str, tuple[str, ...]] = {
    "pre_loading": (),
    "reduced": ("value", "hs_code"),
    "full": ("value", "hs_code", "origin_country", "net_mass_kg"),
    "cn_inventory": ("value", "hs_code", "origin_country"),
}


DATA_SET_REQUIRED = "required_by_data_set"


# In the EU data sets a party identified by its EORI number is complete: name and address are
# required only without one (Delegated Regulation (EU) 2015/2446 Annex B, DE 13 01-13 04 notes).
_IDENTIFIED_BY_EORI = frozenset({"reduced", "full"})
_ADDRESS_PARTS = frozenset({"name", "address", "city", "country", "postcode"})


def _identified(party: Party, profile: str) -> bool:
    return (
        profile in _IDENTIFIED_BY_EORI
        and party.identifier is not None
        and codes.is_eori(party.identifier)
    )


def _required_by_data_set(doc: FilingDocument, out: list[Problem], profile: str) -> None:
    for party_name, attr in _REQUIRED[profile]:
        party = getattr(doc, party_name)
        if party is not None and attr in _ADDRESS_PARTS and _identified(party, profile):
            continue
        if party is None or not getattr(party, attr):
            out.append(
                Problem(
                    f"/{party_name}/{attr}",
                    DATA_SET_REQUIRED,
                    f"required for the {profile} data set",
                )
            )
    for i, item in enumerate(doc.items):
        for attr in _ITEM_REQUIRED[profile]:
            if getattr(item, attr) is None:
                out.append(
                    Problem(
                        f"/items/{i}/{attr}",
                        DATA_SET_REQUIRED,
                        f"required for the {profile} data set",
                    )
                )


def _totals(doc: FilingDocument, out: list[Problem]) -> None:
    if any(i.value is None for i in doc.items):
        return
    goods = doc.intrinsic_value
    extra = (doc.transport_cost or Decimal(0)) + (doc.insurance_cost or Decimal(0))
    order_total = doc.order.total if doc.order is not None else None
    if doc.order is not None:  # what the platform charged on top (tax) or took off (discount)
        goods += (doc.order.tax or Decimal(0)) - (doc.order.discount or Decimal(0))
    if order_total is not None and not _close(order_total, goods, goods + extra):
        out.append(
            Problem(
                "/order/total",
                "totals_mismatch",
                f"order total {order_total} differs from the items' {goods} {doc.currency}",
                "warning",
            )
        )
    pay = doc.payment
    if pay is not None and pay.amount is not None and (pay.currency in (None, doc.currency)):
        reference = doc.order.total if doc.order and doc.order.total is not None else goods
        if not _close(pay.amount, reference, reference + extra):
            out.append(
                Problem(
                    "/payment/amount",
                    "totals_mismatch",
                    f"payment {pay.amount} differs from the order's {reference} {doc.currency}",
                    "warning",
                )
            )


def _close(amount: Decimal, low: Decimal, high: Decimal) -> bool:
    """Is amount within tolerance of the range [low, high]?"""
    slack = max(abs(high), abs(amount)) * TOTALS_TOLERANCE
    return low - slack <= amount <= high + slack


# A quote is about goods and money: parties, the transport document and the filer's reference
# may be placeholders.
_NOT_NEEDED_FOR_QUOTES = ("/consignor", "/consignee", "/transport_document", "/filer_reference")


def check_quote(doc: FilingDocument, *, served: frozenset[str] | None = None) -> list[Problem]:
    """The errors that keep a document from being quoted (the public estimator, quote CLI/API)."""
    return [
        p
        for p in check_filing(doc, served=served)
        if p.severity == "error"
        and p.code != DATA_SET_REQUIRED  # a quote estimates from what is known
        and not p.path.startswith(_NOT_NEEDED_FOR_QUOTES)
    ]


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]
