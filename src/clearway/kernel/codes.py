"""Code lists: ISO 3166 countries, ISO 4217 currencies, HS 2022 nomenclature, UPU S10 item ids.

The lists ship in `kernel/data` (see its SOURCES.md) and load once, on first use.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("clearway.kernel").joinpath("data", name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True, slots=True)
class Country:
    alpha2: str
    alpha3: str
    numeric: str
    name: str
    currencies: tuple[str, ...]


@cache
def countries() -> dict[str, Country]:
    """ISO 3166-1 countries by alpha-2 code."""
    return {
        r["alpha2"]: Country(
            r["alpha2"],
            r["alpha3"],
            r["numeric"].zfill(3) if r["numeric"] else "",
            r["name"],
            tuple(c for c in r["currencies"].split(",") if c),
        )
        for r in _rows("countries.csv")
    }


@cache
def _countries_by_numeric() -> dict[str, str]:
    return {c.numeric: c.alpha2 for c in countries().values() if c.numeric}


def country_from_numeric(numeric: str) -> str | None:
    """Alpha-2 code for an ISO 3166 numeric code ("156" → "CN")."""
    return _countries_by_numeric().get(numeric.zfill(3))


def is_country(code: str) -> bool:
    return code in countries()


_EORI = re.compile(r"[A-Z]{2}[0-9A-Z]{1,15}")


def is_eori(identifier: str) -> bool:
    """An EU EORI number: the issuing country's ISO code and up to 15 letters or digits
    (Delegated Regulation (EU) 2015/2446, Annex 12-01; DE 13 04/13 05 identification)."""
    return bool(_EORI.fullmatch(identifier)) and is_country(identifier[:2])


@cache
def _currencies() -> dict[str, tuple[str, int]]:
    return {
        r["code"]: (r["numeric"].zfill(3), int(r["minor_unit"]) if r["minor_unit"] else 2)
        for r in _rows("currencies.csv")
    }


def is_currency(code: str) -> bool:
    return code in _currencies()


def currency_minor_unit(code: str) -> int:
    """Decimal places of a currency's minor unit (EUR 2, JPY 0, KWD 3); 2 when unknown."""
    entry = _currencies().get(code)
    return entry[1] if entry else 2


@cache
def _currencies_by_numeric() -> dict[str, str]:
    return {num: code for code, (num, _) in _currencies().items()}


def currency_from_numeric(numeric: str) -> str | None:
    """Alpha code for an ISO 4217 numeric code ("142"... "156" → "CNY")."""
    return _currencies_by_numeric().get(numeric.zfill(3))


@dataclass(frozen=True, slots=True)
class HsEntry:
    code: str
    level: int
    description: str


@cache
def hs_nomenclature() -> dict[str, HsEntry]:
    """HS 2022 chapters (2), headings (4) and subheadings (6) by code."""
    return {
        r["code"]: HsEntry(r["code"], int(r["level"]), r["description"])
        for r in _rows("hs2022.csv")
    }


_HS_SHAPE = re.compile(r"^\d{6}(\d{2}){0,2}$")


def normalise_hs(code: str) -> str:
    """Strip dots and spaces that people put in HS codes (`8517.13 00` → `85171300`)."""
    return code.replace(".", "").replace(" ", "").strip()


def hs_problem(code: str) -> str | None:
    """Why an HS code is unusable, or None. 6, 8 or 10 digits; its HS6 must exist in HS 2022."""
    if not _HS_SHAPE.match(code):
        return "an HS code has 6, 8 or 10 digits"
    if code[:6] not in hs_nomenclature():
        return f"subheading {code[:6]} does not exist in HS 2022"
    return None


def hs_description(code: str) -> str | None:
    entry = hs_nomenclature().get(code[:6]) or hs_nomenclature().get(code[:4])
    return entry.description if entry else None


_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of an 8-digit serial number."""
    total = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def looks_like_s10(identifier: str) -> bool:
    return bool(_S10.match(identifier))


def s10_problem(identifier: str) -> str | None:
    """Why a UPU S10 item id is invalid, or None."""
    m = _S10.match(identifier)
    if not m:
        return "a UPU S10 id is 2 letters, 8 digits, a check digit and a 2-letter country code"
    if s10_check_digit(m.group(2)) != int(m.group(3)):
        return f"check digit should be {s10_check_digit(m.group(2))}"
    if m.group(4) not in countries() and m.group(4) != "UN":
        return f"{m.group(4)} is not an ISO 3166 country code"
    return None


def make_s10(prefix: str, serial: int, country: str) -> str:
    """Build a valid S10 id, e.g. make_s10("LX", 12345678, "CN") → "LX123456785CN"."""
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{s10_check_digit(digits)}{country}"


_AWB = re.compile(r"^(\d{3})-?(\d{7})(\d)$")


def awb_problem(identifier: str) -> str | None:
    """Why an IATA air waybill number (3-digit prefix + 7 digits + mod-7 check) is invalid."""
    m = _AWB.match(identifier)
    if not m:
        return None  # not shaped like an AWB: house waybills have free formats
    if int(m.group(2)) % 7 != int(m.group(3)):
        return f"air waybill check digit should be {int(m.group(2)) % 7}"
    return None
