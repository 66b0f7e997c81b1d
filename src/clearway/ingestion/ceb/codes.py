"""What every CEB message shares: the namespace, GACC code lists, Beijing time, message stamps."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources

from lxml import etree

from clearway.ingestion.xml_safety import schema, text

NS = "http://www.chinaport.gov.cn/ceb"
N = {"c": NS}
SCHEMA_FILE = "ceb_import_business_node_202205.xsd"
# GACC stamps every time in Beijing time. China Standard Time is UTC+8 all year (no daylight
# saving since 1991), so a fixed offset is exact for every date a message can carry.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def import_schema() -> etree.XMLSchema:
    return schema("cn_ceb", SCHEMA_FILE)


@cache
def _gacc() -> dict[tuple[str, str], str]:
    node = resources.files("clearway.ingestion").joinpath("data", "gacc_codes.csv")
    with node.open(encoding="utf-8") as f:
        return {(r["list"], r["gacc_code"]): r["iso_code"] for r in csv.DictReader(f)}


@cache
def _gacc_reverse() -> dict[tuple[str, str], str]:
    return {(kind, iso): code for (kind, code), iso in _gacc().items()}


def country_from_gacc(code: str) -> str | None:
    """ISO alpha-2 for a GACC country/region code ("142" → "CN", "116" → "JP")."""
    return _gacc().get(("country", code.strip()))


def currency_from_gacc(code: str) -> str | None:
    """ISO 4217 alpha code for a GACC currency code ("142" → "CNY", "502" → "USD")."""
    return _gacc().get(("currency", code.strip()))


def gacc_country(iso: str) -> str:
    return _gacc_reverse().get(("country", iso), "701")  # 701: country unknown


def gacc_currency(iso: str) -> str:
    try:
        return _gacc_reverse()[("currency", iso)]
    except KeyError:
        raise ValueError(f"no GACC currency code for {iso}") from None


def child(node: etree._Element | None, name: str) -> str | None:
    """The text of a direct CEB child element (None when absent or blank)."""
    return None if node is None else text(node.find(f"c:{name}", N))


def fields(node: etree._Element | None) -> dict[str, str]:
    """Every non-blank child element of a block, by local name."""
    if node is None:
        return {}
    out: dict[str, str] = {}
    for el in node:
        if isinstance(el.tag, str) and len(el) == 0:
            value = text(el)
            if value is not None:
                out[etree.QName(el).localname] = value
    return out


def beijing(raw: str) -> datetime:
    """A CEB time `YYYYMMDDhhmmss` (Beijing time) as an aware datetime (ValueError if not)."""
    return datetime.strptime(raw[:14], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)


def stamp(at: datetime | None) -> str:
    """`YYYYMMDDhhmmss` in Beijing time, as enterprises write appTime."""
    return (at or datetime.now(UTC)).astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def stamp_ms(at: datetime | None) -> str:
    """`YYYYMMDDhhmmssSSS` in Beijing time, as customs writes returnTime."""
    when = (at or datetime.now(UTC)).astimezone(BEIJING)
    return when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"
