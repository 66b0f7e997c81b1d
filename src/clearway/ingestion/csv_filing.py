"""CSV bulk filing for small operators: one row per goods item, rows grouped into filings.

Rows with the same `filer_reference` form one filing; consignment-level columns must agree
across its rows (the first non-empty value wins, a different one is an error on that row).
Excel exports are read as they come: UTF-8 with or without BOM, UTF-16, Windows-1252, `,` `;`
or tab separators, and decimal commas (`12,50`, `1.234,50`). Columns are listed in COLUMNS and
documented in docs/formats.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal

from clearway.domain.filing import (
    Collection,
    FilingDocument,
    Item,
    Order,
    Party,
    Payment,
    from_builtins,
)
from clearway.ingestion.records import FormatError, ParsedRecord, match_keys
from clearway.ingestion.values import Collector
from clearway.kernel.errors import Problem

MAX_ROWS = 100_000

HEADER_COLUMNS = (
    "filer_reference",
    "transport_document",
    "destination_country",
    "data_set",
    "mode",
    "master_document",
    "legal_date",
    "dispatch_country",
    "currency",
    "transport_cost",
    "insurance_cost",
    "category",
    "collection_model",
    "registration_number",
    "consignor_name",
    "consignor_address",
    "consignor_city",
    "consignor_postcode",
    "consignor_country",
    "consignee_name",
    "consignee_address",
    "consignee_city",
    "consignee_postcode",
    "consignee_country",
    "consignee_email",
    "seller_name",
    "seller_country",
    "platform_name",
    "order_id",
    "order_total",
    "payment_id",
    "payment_amount",
    "payer_name",
    "office",
    "gross_mass_kg",
    "packages",
    "procedure_code",
    "additional_procedure_codes",
    "consignee_identifier",
)
ITEM_COLUMNS = (
    "item_description",
    "item_quantity",
    "item_value",
    "item_hs_code",
    "item_origin_country",
    "item_net_mass_kg",
    "item_gross_mass_kg",
    "item_url",
)
# `action`: empty or "new" files (or amends) the filing; "cancel" withdraws the filer's filing
# of that reference before arrival (a row with only filer_reference and action is enough)
ACTION_COLUMN = "action"
COLUMNS = HEADER_COLUMNS + ITEM_COLUMNS + (ACTION_COLUMN,)
REQUIRED = ("filer_reference", "transport_document", "destination_country", "item_description")
_AMOUNTS = {
    "transport_cost",
    "insurance_cost",
    "order_total",
    "payment_amount",
    "gross_mass_kg",
    "item_value",
    "item_net_mass_kg",
    "item_gross_mass_kg",
}
_DECIMAL_COMMA = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
_THOUSANDS_COMMA = re.compile(r"^-?\d{1,3}(,\d{3})+\.\d+$")


def decode_text(content: bytes) -> str:
    """Text of an uploaded file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise FormatError("csv.encoding", "the file starts as UTF-16 but is not") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def normalise_amount(raw: str) -> str:
    """`12,50` → `12.50`, `1.234,50` → `1234.50`, `1,234.50` → `1234.50`; spaces dropped."""
    value = raw.strip().replace("\u00a0", "").replace(" ", "")
    if _DECIMAL_COMMA.match(value):
        return value.replace(".", "").replace(",", ".")
    if _THOUSANDS_COMMA.match(value):
        return value.replace(",", "")
    return value


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def parse(content: bytes) -> list[ParsedRecord]:
    """Filings from CSV bytes; each record's problems name the row and column."""
    text = decode_text(content)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise FormatError("csv.empty", "the file is empty") from None
    except csv.Error as exc:
        raise FormatError("csv.malformed", f"unreadable CSV: {exc}") from None
    columns = [_header_key(h) for h in header]
    required = ("filer_reference",) if ACTION_COLUMN in columns else REQUIRED
    missing = [c for c in required if c not in columns]
    if missing:
        raise FormatError("csv.columns", f"missing required columns: {', '.join(missing)}")
    unknown = [h for h, c in zip(header, columns, strict=True) if c and c not in COLUMNS]
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    orphans: list[ParsedRecord] = []
    try:
        for line_no, row in enumerate(reader, start=2):
            if line_no > MAX_ROWS + 1:
                raise FormatError("csv.too_many_rows", f"more than {MAX_ROWS} rows")
            if not any(cell.strip() for cell in row):
                continue
            values = {
                c: cell.strip() for c, cell in zip(columns, row, strict=False) if c in COLUMNS
            }
            if len(row) > len(columns):
                orphans.append(_row_error(line_no, "csv.extra_cells", "more cells than columns"))
                continue
            reference = values.get("filer_reference", "")
            if not reference:
                orphans.append(
                    _row_error(
                        line_no, "csv.missing", "filer_reference is empty", "filer_reference"
                    )
                )
                continue
            action = values.get(ACTION_COLUMN, "").lower()
            if action == "cancel":
                orphans.append(_withdrawal(line_no, reference))
                continue
            if action not in ("", "new"):
                orphans.append(
                    _row_error(line_no, "csv.action", "action is new or cancel", ACTION_COLUMN)
                )
                continue
            groups.setdefault(reference, []).append((line_no, values))
    except csv.Error as exc:
        raise FormatError("csv.malformed", f"unreadable CSV: {exc}") from None
    records = [_filing(rows) for rows in groups.values()] + orphans
    if unknown and records:
        records[0].problems.append(
            Problem(
                "header",
                "csv.unknown_columns",
                f"ignored columns: {', '.join(unknown)[:200]}",
                "warning",
            )
        )
    return records


def _withdrawal(line: int, reference: str) -> ParsedRecord:
    return ParsedRecord(
        None, None, "declaration", f"row {line}", action="cancel", filer_reference=reference
    )


def _row_error(line: int, code: str, message: str, column: str = "") -> ParsedRecord:
    path = f"rows/{line}/{column}" if column else f"rows/{line}"
    return ParsedRecord(None, None, "declaration", f"row {line}", [Problem(path, code, message)])


def _span(lines: Iterable[int]) -> str:
    numbers = sorted(lines)
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    return f"rows {numbers[0]}-{numbers[-1]}"


def _filing(rows: list[tuple[int, dict[str, str]]]) -> ParsedRecord:
    found = Collector()
    header: dict[str, str] = {}
    for line, values in rows:
        for column in HEADER_COLUMNS:
            value = values.get(column, "")
            if not value:
                continue
            if column not in header:
                header[column] = value
            elif header[column] != value:
                found.error(
                    f"rows/{line}/{column}",
                    "csv.conflict",
                    f"{column} is {value!r} here but {header[column]!r} on an earlier row",
                )

    def amount(column: str, value: str | None, line: int) -> Decimal | None:
        return found.amount(normalise_amount(value) if value else None, f"rows/{line}/{column}")

    first = rows[0][0]
    for column in ("transport_document", "destination_country"):
        if not header.get(column):
            found.error(f"rows/{first}/{column}", "csv.missing", f"{column} is empty")
    items: list[dict[str, object]] = []
    for line, values in rows:
        if not values.get("item_description"):
            found.error(f"rows/{line}/item_description", "csv.missing", "item_description is empty")
            continue
        quantity = found.whole(values.get("item_quantity") or "1", f"rows/{line}/item_quantity")
        items.append(
            {
                "description": values["item_description"],
                "quantity": quantity or 1,
                "value": amount("item_value", values.get("item_value"), line),
                "hs_code": found.hs(
                    values.get("item_hs_code") or None, f"rows/{line}/item_hs_code"
                ),
                "origin_country": found.country(
                    values.get("item_origin_country") or None, f"rows/{line}/item_origin_country"
                ),
                "net_mass_kg": amount("item_net_mass_kg", values.get("item_net_mass_kg"), line),
                "gross_mass_kg": amount(
                    "item_gross_mass_kg", values.get("item_gross_mass_kg"), line
                ),
                "url": values.get("item_url") or None,
            }
        )

    def h(column: str) -> str | None:
        return header.get(column) or None

    def party(prefix: str, *fields: str) -> dict[str, str] | None:
        data = {f: header[f"{prefix}_{f}"] for f in fields if header.get(f"{prefix}_{f}")}
        return data or None

    record = ParsedRecord(
        None,
        None,
        "declaration",
        _span(line for line, _ in rows),
        found.problems,
        filer_reference=rows[0][1].get("filer_reference"),
    )
    raw: dict[str, object] = {
        "filer_reference": h("filer_reference"),
        "transport_document": h("transport_document") or "",
        "destination_country": found.country(
            h("destination_country"), f"rows/{first}/destination_country"
        )
        or "",
        "items": [{k: v for k, v in i.items() if v is not None} for i in items],
        "data_set": h("data_set"),
        "mode": h("mode"),
        "master_document": h("master_document"),
        "legal_date": h("legal_date"),
        "dispatch_country": found.country(h("dispatch_country"), f"rows/{first}/dispatch_country"),
        "currency": found.currency(h("currency"), f"rows/{first}/currency"),
        "transport_cost": amount("transport_cost", h("transport_cost"), first),
        "insurance_cost": amount("insurance_cost", h("insurance_cost"), first),
        "category": h("category"),
        "office": h("office"),
        "gross_mass_kg": amount("gross_mass_kg", h("gross_mass_kg"), first),
        "packages": found.whole(h("packages"), f"rows/{first}/packages"),
        "consignor": party("consignor", "name", "address", "city", "postcode", "country"),
        "consignee": party(
            "consignee", "name", "address", "city", "postcode", "country", "email", "identifier"
        ),
        "procedure_code": h("procedure_code"),
        "additional_procedure_codes": (h("additional_procedure_codes") or "").split() or None,
        "seller": party("seller", "name", "country"),
        "platform": {"name": h("platform_name")} if h("platform_name") else None,
    }
    if h("collection_model") or h("registration_number"):
        raw["collection"] = {
            "model": h("collection_model") or "vendor",
            "registration_number": h("registration_number"),
        }
    if h("order_id") or h("order_total"):
        raw["order"] = {
            "id": h("order_id"),
            "total": amount("order_total", h("order_total"), first),
        }
    if h("payment_id") or h("payment_amount") or h("payer_name"):
        raw["payment"] = {
            "id": h("payment_id"),
            "amount": amount("payment_amount", h("payment_amount"), first),
            "payer_name": h("payer_name"),
        }
    if found.failed:
        return record
    cleaned = {k: _drop_none(v) for k, v in raw.items() if v is not None}
    try:
        record.document = from_builtins(cleaned)
    except Exception as exc:  # msgspec.ValidationError names the field in its message
        record.problems.append(Problem(f"rows/{first}", "csv.invalid", _field_message(str(exc))))
        return record
    record.references.update(match_keys(record.document))
    return record


def _drop_none(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def _field_message(message: str) -> str:
    return message.replace("$.", "").replace("`", "")[:300]


def render_rows(documents: Iterable[FilingDocument], delimiter: str = ",") -> bytes:
    """CSV bytes (UTF-8, header row) for filings: one row per item, the inverse of `parse`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for doc in documents:
        head = _header_values(doc)
        for item in doc.items or [Item(description="")]:
            values = dict(head)
            values.update(
                {
                    "item_description": item.description,
                    "item_quantity": str(item.quantity),
                    "item_value": _s(item.value),
                    "item_hs_code": item.hs_code or "",
                    "item_origin_country": item.origin_country or "",
                    "item_net_mass_kg": _s(item.net_mass_kg),
                    "item_gross_mass_kg": _s(item.gross_mass_kg),
                    "item_url": item.url or "",
                }
            )
            writer.writerow([values.get(c, "") for c in COLUMNS])
    return out.getvalue().encode("utf-8")


def _s(value: object | None) -> str:
    return "" if value is None else str(value)


def _party_values(prefix: str, party: Party | None) -> dict[str, str]:
    if party is None:
        return {}
    fields = ("name", "address", "city", "postcode", "country", "email", "identifier")
    return {f"{prefix}_{f}": _s(getattr(party, f)) for f in fields}


def _header_values(doc: FilingDocument) -> dict[str, str]:
    collection = doc.collection or Collection()
    order = doc.order or Order()
    payment = doc.payment or Payment()
    values = {
        "filer_reference": doc.filer_reference,
        "transport_document": doc.transport_document,
        "destination_country": doc.destination_country,
        "data_set": doc.data_set,
        "mode": doc.mode,
        "master_document": _s(doc.master_document),
        "legal_date": _s(doc.legal_date),
        "dispatch_country": _s(doc.dispatch_country),
        "currency": doc.currency,
        "transport_cost": _s(doc.transport_cost),
        "insurance_cost": _s(doc.insurance_cost),
        "category": doc.category,
        "collection_model": collection.model if doc.collection else "",
        "registration_number": _s(collection.registration_number),
        "order_id": _s(order.id),
        "order_total": _s(order.total),
        "payment_id": _s(payment.id),
        "payment_amount": _s(payment.amount),
        "payer_name": _s(payment.payer_name),
        "office": _s(doc.office),
        "gross_mass_kg": _s(doc.gross_mass_kg),
        "packages": _s(doc.packages),
        "procedure_code": _s(doc.procedure_code),
        "additional_procedure_codes": " ".join(doc.additional_procedure_codes),
        "platform_name": _s(doc.platform.name) if doc.platform else "",
    }
    values.update(_party_values("consignor", doc.consignor))
    values.update(_party_values("consignee", doc.consignee))
    if doc.seller:
        values.update(
            {"seller_name": _s(doc.seller.name), "seller_country": _s(doc.seller.country)}
        )
    return {k: v for k, v in values.items() if k in COLUMNS}


def error_report(records: Iterable[ParsedRecord]) -> bytes:
    """A CSV of every problem: source rows, path (rows/<n>/<column>), severity, code, message."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["source", "path", "severity", "code", "message"])
    for record in records:
        for problem in record.problems:
            writer.writerow(
                [record.source_ref, problem.path, problem.severity, problem.code, problem.message]
            )
    return out.getvalue().encode("utf-8")
