"""Canonical filings written as EU DMS declarations: H7 (low value) or H1 (standard import).

The writer carries what each data set has room for (docs/formats.md lists what H7 cannot
carry); an importer with an EORI number is written by its number alone when the filing gives no
name. Written declarations validate against the shipped DMS schemas.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from clearway.domain.filing import FilingDocument, Party
from clearway.ingestion.h7 import DOC_TYPE_MODE, NS

_MODE_DOC_TYPE = {mode: code for code, mode in DOC_TYPE_MODE.items()} | {"air_cargo": "N740"}
# DE 16 15-ish transport mode at the border (CL10038): 1 sea, 2 rail, 3 road, 4 air, 5 post
_BORDER_MODE = {"sea": "1", "rail": "2", "road": "3", "air_cargo": "4", "express": "4", "post": "5"}


def _el(
    parent: etree._Element, name: str, value: object | None = None, **attrs: str
) -> etree._Element:
    node = etree.SubElement(parent, f"{{{NS}}}{name}", attrs)
    if value is not None:
        node.text = str(value)
    return node


def _address(parent: etree._Element, party: Party) -> None:
    if party.city and party.country and party.address and party.postcode:
        address = _el(parent, "Address")
        _el(address, "CityName", party.city)
        _el(address, "CountryCode", party.country)
        _el(address, "Line", party.address)
        _el(address, "PostcodeID", party.postcode)


def _transport_document(parent: etree._Element, doc: FilingDocument) -> None:
    """DE 12 05: the house waybill (H7 at consignment level, H1 per item)."""
    tcd = _el(parent, "TransportContractDocument")
    _el(tcd, "SequenceNumeric", 1)
    _el(tcd, "ID", doc.transport_document)
    _el(tcd, "Type", _MODE_DOC_TYPE.get(doc.mode, "N740"))


def _default_additional_codes(doc: FilingDocument) -> list[str]:
    if doc.additional_procedure_codes:
        return list(doc.additional_procedure_codes)
    if doc.data_set == "full":
        return []
    if doc.category == "gift":
        return ["C08"]
    codes = ["C07"]
    if doc.collection_model == "vendor":
        codes.append("F48")
    elif doc.collection_model == "intermediary":
        codes.append("F49")
    return codes


def _classification(commodity: etree._Element, hs_code: str) -> None:
    """HS subheading (6 digits), then the CN (2) and TARIC (2) parts where known (H1)."""
    # a CN code without TARIC subdivision is the TARIC code with "00" (DE 18 09, 10 digits)
    taric = hs_code[8:10] or ("00" if len(hs_code) == 8 else "")
    parts = [("HS", hs_code[:6]), ("CN", hs_code[6:8]), ("TRC", taric)]
    for seq, (kind, code) in enumerate((p for p in parts if p[1]), start=1):
        classification = _el(commodity, "Classification")
        _el(classification, "SequenceNumeric", seq)
        _el(classification, "ID", code)
        _el(classification, "IdentificationTypeCode", kind)


def render_declaration(
    doc: FilingDocument,
    *,
    declarant_eori: str,
    submitter_id: str | None = None,
    office: str | None = None,
    amendment_of: str | None = None,
    change_reason_code: str = "5",
    change_reason_text: str = "Corrected by declarant",
    category: str | None = None,
    pre_lodged: bool = False,
) -> bytes:
    """A filing as an H7 declaration — or H1 for a full data set (or `category="H1"`); with
    `amendment_of=<MRN>` a correction of that declaration; `pre_lodged` gives type IMD."""
    h1 = (category or ("H1" if doc.data_set == "full" else "H7")) == "H1"
    root = etree.Element(f"{{{NS}}}Declaration", nsmap={"ns2": NS})
    _el(root, "FunctionCode", "4" if amendment_of else "9")
    _el(root, "ProcedureCategory", "H1" if h1 else "H7")
    _el(root, "FunctionalReferenceID", doc.filer_reference)
    if amendment_of:
        _el(root, "ID", amendment_of)
    _el(root, "TypeCode", "COR" if amendment_of else ("IMD" if pre_lodged else "IMA"))
    _el(root, "DeclarationOfficeID", office or doc.office or f"{doc.destination_country}000000")
    if h1:
        _el(root, "InvoiceAmount", doc.intrinsic_value, currencyID=doc.currency)
    submitter = _el(root, "Submitter")
    _el(submitter, "Name", submitter_id or declarant_eori)
    _el(submitter, "ID", submitter_id or declarant_eori)
    if amendment_of:
        amendment = _el(root, "Amendment")
        _el(amendment, "SequenceNumeric", 1)
        _el(amendment, "ChangeReasonCode", change_reason_code)
        _el(amendment, "ChangeReasonText", change_reason_text)
    declarant = _el(root, "Declarant")
    _el(declarant, "ID", declarant_eori)
    shipment = _el(root, "GoodsShipment")
    consignment = _el(shipment, "Consignment")
    lodged_at = office or doc.office or f"{doc.destination_country}000000"
    if h1:
        border = _el(consignment, "BorderTransportMeans")
        _el(border, "ModeCode", _BORDER_MODE.get(doc.mode, "4"))
        _el(consignment, "ContainerCode", 0)
        location = _el(consignment, "GoodsLocation")  # at the office (DE 16 15, type A/V)
        _el(location, "TypeCode", "A")
        _el(location, "IdentificationType", "V")
        _el(_el(location, "CustomsOffice"), "identification", lodged_at)
    else:
        _transport_document(consignment, doc)
    if doc.transport_cost is not None and not h1:
        freight = _el(consignment, "Freight")
        _el(freight, "rate", doc.transport_cost, currencyID=doc.currency)
    if doc.consignor and doc.consignor.name:
        consignor = _el(shipment, "Consignor")
        _el(consignor, "Name", doc.consignor.name)
        _address(consignor, doc.consignor)
    if h1:
        _el(_el(shipment, "Destination"), "CountryCode", doc.destination_country)
    if doc.collection and doc.collection.registration_number:
        party = _el(shipment, "DomesticDutyTaxParty")
        _el(party, "SequenceNumeric", 1)
        _el(party, "ID", doc.collection.registration_number)
        _el(party, "RoleCode", "FR5")
    if doc.gross_mass_kg is not None:
        measure = _el(shipment, "GoodsMeasure")
        _el(measure, "GrossMassMeasure", doc.gross_mass_kg)
    procedure = doc.procedure_code or "4000"
    for number, item in enumerate(doc.items, start=1):
        node = _el(shipment, "GovernmentAgencyGoodsItem")
        _el(node, "SequenceNumeric", number)
        if h1:  # DE 99 06 statistical value: the goods' value (transport is not carried)
            _el(node, "StatisticalValueAmount", item.value or Decimal(0))
        commodity = _el(node, "Commodity")
        _el(commodity, "Description", item.description)
        if item.hs_code and h1:
            _classification(commodity, item.hs_code)
        elif item.hs_code:  # H7 (DE 18 09): the code as declared, as one HS classification
            classification = _el(commodity, "Classification")
            _el(classification, "SequenceNumeric", 1)
            _el(classification, "ID", item.hs_code)
            _el(classification, "IdentificationTypeCode", "HS")
        if item.gross_mass_kg is not None or h1:
            measure = _el(commodity, "GoodsMeasure")
            _el(measure, "GrossMassMeasure", item.gross_mass_kg or item.net_mass_kg or 0)
            if h1 and item.net_mass_kg is not None:
                _el(measure, "NetNetWeightMeasure", item.net_mass_kg)
            if item.supplementary_units is not None:
                _el(measure, "TariffQuantity", item.supplementary_units)
        line = _el(commodity, "InvoiceLine")
        value = item.value or Decimal(0)
        if h1:  # from H1 V2.3 the invoice currency is the header's (InvoiceAmount)
            _el(line, "ItemChargeAmount", value)
            _el(_el(node, "CustomsValuation"), "MethodCode", 1)  # transaction value
        else:
            _el(line, "ItemChargeAmount", value, currencyID=doc.currency)
        gp = _el(node, "GovernmentProcedure")
        _el(gp, "SequenceNumeric", 1)
        _el(gp, "CurrentCode", procedure[:2])
        _el(gp, "PreviousCode", procedure[2:4] or "00")
        additional = _default_additional_codes(doc) or (["000"] if h1 else [])  # 000: none
        for seq, code in enumerate(additional, start=2):
            extra = _el(node, "GovernmentProcedure")
            _el(extra, "SequenceNumeric", seq)
            _el(extra, "CurrentCode", code)
        if h1 and item.origin_country:
            origin = _el(node, "Origin")
            _el(origin, "SequenceNumeric", 1)
            _el(origin, "CountryCode", item.origin_country)
            _el(origin, "TypeCode", "1")
        # DE 18 06: the parcel's packages on the first item, 0 on items packed with it
        packaging = _el(node, "Packaging")
        _el(packaging, "SequenceNumeric", 1)
        if h1:  # DE 18 04 shipping marks: the waybill number the parcel carries
            _el(packaging, "MarksNumbersID", doc.transport_document[:512])
        _el(packaging, "QuantityQuantity", (doc.packages or 1) if number == 1 else 0)
        if h1:
            _el(packaging, "TypeCode", "PK")  # UN/ECE Rec. 21: package
            _transport_document(node, doc)
    importer = _el(shipment, "Importer")
    consignee = doc.consignee or Party()
    if consignee.name:
        _el(importer, "Name", consignee.name)
    _el(importer, "ID", consignee.identifier or "-")
    _address(importer, consignee)
    if h1:
        terms = _el(shipment, "TradeTerms")  # DE 14 01: delivered to the buyer, duty unpaid
        _el(terms, "ConditionCode", "DAP")
        _el(terms, "LocationID", (consignee.city or doc.destination_country)[:17])
        if doc.dispatch_country:
            _el(_el(shipment, "DispatchCountry"), "ID", doc.dispatch_country)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
