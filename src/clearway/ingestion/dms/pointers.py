"""Where a problem sits in a DMS declaration: XPaths to the element the declarant sent.

The reader reports XPaths itself. Checks that run on the canonical filing (data sets, eligibility,
values) report JSON pointers (`/items/0/value`); `to_xpath` turns them into the XPath of the
element that carried the value, so every problem in a DMS answer points into the declaration.
"""

from __future__ import annotations

import re

ROOT = "/Declaration"
_ITEM = f"{ROOT}/GoodsShipment/GovernmentAgencyGoodsItem"
_SHIPMENT = f"{ROOT}/GoodsShipment"


def xpath(path: str, tail: str = "", *, index: int | None = None) -> str:
    """`/Declaration/<path>[index+1]/<tail>` (index counts goods items from 0)."""
    where = f"{ROOT}/{path}" if path else ROOT
    if index is not None:
        where += f"[{index + 1}]"
    return f"{where}/{tail}" if tail else where


# canonical field -> element of the declaration that carries it
_ITEM_FIELDS = {
    "description": "Commodity/Description",
    "value": "Commodity/InvoiceLine/ItemChargeAmount",
    "hs_code": "Commodity/Classification/ID",
    "origin_country": "Origin/CountryCode",
    "net_mass_kg": "Commodity/GoodsMeasure/NetNetWeightMeasure",
    "gross_mass_kg": "Commodity/GoodsMeasure/GrossMassMeasure",
    "quantity": "Commodity/GoodsMeasure/TariffQuantity",
    "supplementary_units": "Commodity/GoodsMeasure/TariffQuantity",
}
_PARTY = {"consignee": "Importer", "consignor": "Consignor"}
_PARTY_FIELDS = {
    "name": "Name",
    "identifier": "ID",
    "address": "Address/Line",
    "city": "Address/CityName",
    "postcode": "Address/PostcodeID",
    "country": "Address/CountryCode",
}
_TOP = {
    "filer_reference": f"{ROOT}/FunctionalReferenceID",
    "transport_document": f"{_SHIPMENT}/Consignment/TransportContractDocument/ID",
    "destination_country": f"{_SHIPMENT}/Destination/CountryCode",
    "dispatch_country": f"{_SHIPMENT}/DispatchCountry/ID",
    "currency": f"{_ITEM}/Commodity/InvoiceLine/ItemChargeAmount/@currencyID",
    "transport_cost": f"{_SHIPMENT}/Consignment/Freight/rate",
    "gross_mass_kg": f"{_SHIPMENT}/GoodsMeasure/GrossMassMeasure",
    "office": f"{ROOT}/DeclarationOfficeID",
    "collection": f"{_SHIPMENT}/DomesticDutyTaxParty/ID",
    "procedure_code": f"{_ITEM}/GovernmentProcedure/CurrentCode",
    "additional_procedure_codes": f"{_ITEM}/GovernmentProcedure/CurrentCode",
    "items": _ITEM,
    "legal_date": ROOT,
}
_ITEM_PATH = re.compile(r"/items/(\d+)(?:/(\w+))?")


def to_xpath(pointer: str) -> str:
    """The declaration element for a canonical JSON pointer; XPaths pass through unchanged."""
    if pointer.startswith(ROOT):
        return pointer
    if pointer in ("", "/"):
        return ROOT
    match = _ITEM_PATH.match(pointer)
    if match:
        index = int(match.group(1))
        tail = _ITEM_FIELDS.get(match.group(2) or "", "")
        return xpath("GoodsShipment/GovernmentAgencyGoodsItem", tail, index=index)
    parts = pointer.strip("/").split("/")
    if parts[0] in _PARTY:
        element = f"{_SHIPMENT}/{_PARTY[parts[0]]}"
        field = _PARTY_FIELDS.get(parts[1]) if len(parts) > 1 else None
        return f"{element}/{field}" if field else element
    return _TOP.get(parts[0], ROOT)
