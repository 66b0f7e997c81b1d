"""Reading exchange-rate files for `clearway rates load`: rows (day, currency, units per EUR).

Three shapes are read, recognised by their content:
- the ECB's published history or daily file as CSV (`Date,USD,JPY,…`; dates ISO or
  "30 October 2026"; `N/A` or empty for no rate; trailing commas and spaces allowed);
- the ECB's XML (`eurofxref-hist.xml`, `eurofxref-daily.xml`: `<Cube time=…>` with
  `<Cube currency=… rate=…>` children);
- a plain CSV `date,currency,rate` (rate = units of the currency per 1 EUR, the ECB convention).

Every bad line is a `RatesFileError` naming the line; nothing is loaded from a file with errors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from clearway.kernel.codes import is_currency
from clearway.kernel.errors import ClearwayError

Row = tuple[date, str, Decimal]
MAX_RATE = Decimal(10) ** 9


class RatesFileError(ClearwayError):
    problem_type = "invalid-rates-file"
    status = 422


def read_rates(text: str) -> list[Row]:
    """Every rate in the file, in file order."""
    stripped = text.lstrip("\ufeff").lstrip()
    if stripped.startswith("<"):
        return list(_xml(stripped))
    return list(_csv(stripped))


def _day(text: str, line: int) -> date:
    raw = text.strip()
    for parse in (date.fromisoformat, lambda s: datetime.strptime(s, "%d %B %Y").date()):
        try:
            return parse(raw)
        except ValueError:
            continue
    raise RatesFileError(f"line {line}: {raw!r} is not a date")


def _rate(text: str, currency: str, line: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise RatesFileError(
            f"line {line}: {currency} rate {text.strip()!r} is not a number"
        ) from None
    if not value.is_finite() or value <= 0 or value >= MAX_RATE:
        raise RatesFileError(f"line {line}: {currency} rate {value} is not a positive rate")
    return value


def _currency(text: str, line: int) -> str:
    code = text.strip().upper()
    if not is_currency(code) and not (len(code) == 3 and code.isalpha()):
        raise RatesFileError(f"line {line}: {text.strip()!r} is not a currency code")
    if code == "EUR":
        raise RatesFileError(f"line {line}: rates are per EUR; EUR itself has no column")
    return code


def _csv(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    lowered = [h.lower() for h in header if h]
    if lowered == ["date", "currency", "rate"]:
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            if len(row) < 3:
                raise RatesFileError(f"line {reader.line_num}: expected date,currency,rate")
            yield (
                _day(row[0], reader.line_num),
                _currency(row[1], reader.line_num),
                _rate(row[2], row[1], reader.line_num),
            )
        return
    if not lowered or lowered[0] != "date":
        raise RatesFileError(
            "line 1: not a rates file (expected the ECB's `Date,USD,…` header"
            " or `date,currency,rate`)"
        )
    currencies = [_currency(h, 1) if h else "" for h in header[1:]]
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        day = _day(row[0], reader.line_num)
        for currency, cell in zip(currencies, row[1:], strict=False):
            value = cell.strip()
            if not currency or not value or value.upper() == "N/A":
                continue
            yield day, currency, _rate(value, currency, reader.line_num)


def _xml(text: str) -> Iterator[Row]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise RatesFileError(f"not well-formed XML: {exc}") from None
    found = False
    for cube in root.iter():
        if (
            not isinstance(cube.tag, str)
            or not cube.tag.endswith("Cube")
            or "time" not in cube.attrib
        ):
            continue
        day = _day(str(cube.attrib["time"]), 0)
        for child in cube:
            if "currency" in child.attrib and "rate" in child.attrib:
                found = True
                currency = _currency(str(child.attrib["currency"]), 0)
                yield day, currency, _rate(str(child.attrib["rate"]), currency, 0)
    if not found:
        raise RatesFileError("no <Cube time=…> with rates in this XML")
