"""The electronic tax bill customs issues per inventory (CEB816) and its status (CEB818).

A tax bill lists, for each goods line of the inventory, the duty-paid price (`taxPrice`: the
line's share of the customs value, freight and insurance included) and the duty, VAT and
consumption tax assessed on it; the head carries the totals. Under the cross-border retail
import regime within the limits duty is 0 and VAT and consumption tax are 70 % of the statutory
amount (the assessment computes that from the CN pack; this module only writes it down). The
amounts are the assessment's, in CNY.

Status (CEB818 `status`): 1 issued, 2 included in a consolidated payment, 3 cancelled.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from lxml import etree

from clearway.domain.assessment import Assessment
from clearway.domain.filing import FilingDocument
from clearway.ingestion.ceb.codes import NS, stamp_ms
from clearway.ingestion.ceb.numbers import inventory_number, tax_number

ISSUED, CONSOLIDATED, CANCELLED = "1", "2", "3"
_CENT = Decimal("0.01")
_KINDS = {"duty": "customsTax", "vat": "valueAddedTax", "consumption_tax": "consumptionTax"}


def _guid(consignment_id: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"clearway:{consignment_id}:{what}")).upper()


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT))


def line_amounts(doc: FilingDocument, a: Assessment) -> list[dict[str, Decimal]]:
    """Per goods line: taxPrice and each tax, from the assessment's charges."""
    values = [i.value or Decimal(0) for i in doc.items]
    total = sum(values, Decimal(0))
    lines: list[dict[str, Decimal]] = []
    left = a.customs_value
    for index, value in enumerate(values):
        last = index == len(values) - 1
        share = left if last else (a.customs_value * value / total if total else Decimal(0))
        share = share.quantize(_CENT)
        left -= share
        amounts = {"taxPrice": share} | {name: Decimal(0) for name in _KINDS.values()}
        for charge in a.charges:
            if charge.item == index and charge.kind in _KINDS:
                amounts[_KINDS[charge.kind]] += charge.amount
        lines.append(amounts)
    return lines


def render_tax_bill(
    doc: FilingDocument,
    a: Assessment,
    *,
    consignment_id: str,
    at: datetime,
    status: str = ISSUED,
) -> bytes:
    """CEB816 for one assessed inventory (amounts in the assessment's currency, CNY)."""
    root = etree.Element(f"{{{NS}}}CEB816Message", nsmap={None: NS})  # type: ignore[dict-item]
    guid = _guid(consignment_id, "tax")
    root.set("guid", guid)
    root.set("version", "1.0")
    tax = etree.SubElement(root, f"{{{NS}}}Tax")
    head = etree.SubElement(tax, f"{{{NS}}}TaxHeadRd")
    invt_no = inventory_number(doc.office, (doc.legal_date or at).year, consignment_id)
    lines = line_amounts(doc, a)
    totals = {name: sum((ln[name] for ln in lines), Decimal(0)) for name in _KINDS.values()}
    ref = doc.declaration
    values: list[tuple[str, str | None]] = [
        ("guid", guid),
        ("returnTime", stamp_ms(at)),
        ("invtNo", invt_no),
        ("taxNo", tax_number(invt_no)),
        ("customsTax", _money(totals["customsTax"])),
        ("valueAddedTax", _money(totals["valueAddedTax"])),
        ("consumptionTax", _money(totals["consumptionTax"])),
        ("status", status),
        ("note", _note(a)),
        ("ebcCode", doc.seller.identifier if doc.seller else None),
        ("logisticsCode", doc.carrier.identifier if doc.carrier else None),
        ("agentCode", (ref.declarant or "")[:18] if ref else None),
        ("customsCode", doc.office if doc.office and len(doc.office) == 4 else None),
    ]
    for name, value in values:
        if value:
            etree.SubElement(head, f"{{{NS}}}{name}").text = value
    for index, (item, amounts) in enumerate(zip(doc.items, lines, strict=True)):
        line = etree.SubElement(tax, f"{{{NS}}}TaxListRd")
        etree.SubElement(line, f"{{{NS}}}gnum").text = str(index + 1)
        etree.SubElement(line, f"{{{NS}}}gcode").text = (item.hs_code or "").ljust(10, "0")[:10]
        for name in ("taxPrice", *_KINDS.values()):
            etree.SubElement(line, f"{{{NS}}}{name}").text = _money(amounts[name])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _note(a: Assessment) -> str:
    regime = next((f for f in a.flags if f.startswith("cbec_")), "")
    total = f"total {_money(a.total)} {a.currency}"
    return f"{regime}; {total}" if regime else total


def render_tax_status(*, consignment_id: str, invt_no: str, status: str, at: datetime) -> bytes:
    """CEB818: the parcel's tax bill is issued (1), consolidated (2) or cancelled (3)."""
    root = etree.Element(f"{{{NS}}}CEB818Message", nsmap={None: NS})  # type: ignore[dict-item]
    guid = _guid(consignment_id, f"tax-status-{status}")
    root.set("guid", guid)
    root.set("version", "1.0")
    head = etree.SubElement(etree.SubElement(root, f"{{{NS}}}Tax"), f"{{{NS}}}TaxHeadStatus")
    for name, value in (
        ("guid", guid),
        ("returnTime", stamp_ms(at)),
        ("invtNo", invt_no),
        ("taxNo", tax_number(invt_no)),
        ("status", status),
    ):
        etree.SubElement(head, f"{{{NS}}}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
