"""EU H7 declarations in WCO DMS XML (`urn:wco:datamodel:WCO:DEC-DMS:2`) ⇄ canonical filings.

Declarations (FunctionCode 9, IMA/IMD), amendments/corrections (4, COR), invalidations (1, INV)
and repayment applications (37, RRA), for H7 (low-value) and H1 (standard import), are validated
against the shipped DMS schemas of their procedure category, then mapped data element by data
element (see docs/formats.md). Answers are built by `clearway.ingestion.dms.answer`.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import msgspec
from lxml import etree

from clearway.domain.filing import (
    Collection,
    DeclarationReference,
    FilingDocument,
    Item,
    Mode,
    Party,
)
from clearway.ingestion.dms.pointers import xpath
from clearway.ingestion.records import ParsedRecord, match_keys
from clearway.ingestion.values import Collector
from clearway.ingestion.xml_safety import schema, schema_errors, text
from clearway.kernel.errors import Problem

NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
_N = {"d": NS}

# transport document type (CL10273) ⇄ mode of the canonical filing
DOC_TYPE_MODE: dict[str, Mode] = {
    "N750": "post",
    "N740": "express",
    "N705": "sea",
    "N730": "road",
    "N720": "rail",
}

# (procedure category, message kind) -> the DMS schema it is validated against
_SCHEMAS = {
    ("H7", "declaration"): "DMS_H7_V1.9.xsd",
    ("H7", "amendment"): "DMS_H7_AMENDMENT_CORRECTION_V1.8.xsd",
    ("H7", "invalidation"): "DMS_H7_INVALIDATION_V1.4.xsd",
    ("H7", "invalidation_repayment"): "DMS_H7_INVALIDATION_AND_REPAYMENT_V1.4.xsd",
    ("H7", "repayment"): "DMS_H7_REPAYMENT_REMISSION_V1.0.xsd",
    ("H1", "declaration"): "DMS_H1_V2.3.xsd",
    ("H1", "amendment"): "DMS_H1_AMENDMENT_CORRECTION_V2.3.xsd",
    ("H1", "invalidation"): "DMS_H1_INVALIDATION_V2.1.xsd",
    ("H1", "invalidation_repayment"): "DMS_H1_INVALIDATION_AND_REPAYMENT_V2.0.xsd",
    ("H1", "repayment"): "DMS_H1_REPAYMENT_REMISSION_V2.0.xsd",
}
# What earlier versions of a message allowed and the current schema no longer does, still read
# (as a warning): H1 before V2.3 gave each item amount its own currencyID; V2.3 takes the
# invoice currency from the header (InvoiceAmount). (element path suffix, text in the error)
_EARLIER_VERSIONS = {
    "H1": (("/InvoiceLine/ItemChargeAmount", "attribute 'currencyID'"),),
}


def _schema_problems(root: etree._Element, category: str, kind: str) -> list[Problem]:
    xsd = schema("eu_dms", f"{category}_XSDS", _SCHEMAS[(category, kind)])
    out = []
    for error in schema_errors(xsd, root):
        earlier = any(
            error.path.endswith(suffix) and words in error.message
            for suffix, words in _EARLIER_VERSIONS.get(category, ())
        )
        message = f"line {error.line}: {error.message}"
        if earlier:
            out.append(
                Problem(
                    error.path,
                    "h7.schema_earlier_version",
                    f"{message} (allowed by earlier versions of the message; read as sent)",
                    "warning",
                )
            )
        else:
            out.append(Problem(error.path, "h7.schema", message))
    return out


def _t(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    return text(node.find(path, _N))


def _all(node: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if node is None else list(node.findall(path, _N))


def _message_kind(function_code: str | None, root: etree._Element) -> str | None:
    if function_code == "9":
        return "declaration"
    if function_code == "4":
        return "amendment"
    if function_code == "1":
        if root.find("d:RepaymentRemissionAuthorisation", _N) is not None:
            return "invalidation_repayment"
        return "invalidation"
    if function_code == "37":
        return "repayment"
    return None


def _reference(root: etree._Element) -> DeclarationReference:
    """The message's own references (header data elements), kept as sent."""
    return DeclarationReference(
        procedure_category=_t(root, "d:ProcedureCategory"),
        type_code=_t(root, "d:TypeCode"),
        function_code=_t(root, "d:FunctionCode"),
        lrn=_t(root, "d:FunctionalReferenceID"),
        mrn=_t(root, "d:ID"),
        declarant=_t(root, "d:Declarant/d:ID"),
        representative=_t(root, "d:Agent/d:ID"),
        submitter=_t(root, "d:Submitter/d:ID"),
        office=_t(root, "d:DeclarationOfficeID"),
        change_reason_code=_t(root, "d:Amendment/d:ChangeReasonCode"),
        change_reason_text=_t(root, "d:Amendment/d:ChangeReasonText"),
        message_id=hashlib.sha256(etree.tostring(root, method="c14n")).hexdigest(),
    )


def parse(root: etree._Element, *, validate: bool = True) -> list[ParsedRecord]:
    """One record for one DMS `Declaration` root element."""
    ref = _reference(root)
    function_code, category, lrn = ref.function_code, ref.procedure_category, ref.lrn
    kind = _message_kind(function_code, root)
    source = f"LRN {lrn}" if lrn else "Declaration"
    references = {k: v for k, v in msgspec.structs.asdict(ref).items() if v}
    record = ParsedRecord(None, "broker", kind or "unknown", source, references=references)
    record.action = {"amendment": "amend", "invalidation": "cancel"}.get(kind or "", "new")  # type: ignore[assignment]
    record.filer_reference = lrn
    if kind is None:
        record.problems.append(
            Problem(
                xpath("FunctionCode"),
                "h7.function_code",
                f"unknown FunctionCode {function_code!r}",
            )
        )
        return [record]
    if category not in ("H7", "H1"):
        record.problems.append(
            Problem(
                xpath("ProcedureCategory"),
                "h7.procedure_category",
                f"procedure category {category!r} is not accepted here (H7 or H1)",
            )
        )
        return [record]
    if validate:
        record.problems.extend(_schema_problems(root, category, kind))
        if not record.ok:
            return [record]
    if not lrn:
        record.problems.append(
            Problem(xpath("FunctionalReferenceID"), "h7.lrn", "the LRN (DE 12 09) is required")
        )
        return [record]
    if kind in ("invalidation", "invalidation_repayment"):
        record.kind = "invalidation"
        record.action = "cancel"
        if kind == "invalidation_repayment":
            record.references["repayment_requested"] = "true"
            _application(root, record)
        return [record]
    if kind == "repayment":
        record.kind = "repayment_application"
        _application(root, record)
        return [record]
    record.action = "amend" if kind == "amendment" else "new"
    found = Collector()
    document = _document(root, category, found, ref)
    record.problems.extend(found.problems)
    if not found.failed and document is not None:
        record.document = document
        record.references.update(match_keys(document))
    return [record]


AUTHORISATION_NS = "urn:wco:datamodel:WCO:WCO_DEC_EDS_AUTHORISATION:1"
_A = {"d": NS, "a": AUTHORISATION_NS}
_APPLICATION = "RepaymentRemissionAuthorisation"


def _application(root: etree._Element, record: ParsedRecord) -> None:
    """The repayment or remission application (Art. 116 UCC, the 4C application): its type
    (REP/REM), amount and currency of duty, duty type and legal basis, kept as references."""
    node = root.find(f"d:{_APPLICATION}", _A)
    if node is None:
        return
    found = Collector()
    fields = {
        "application_type": text(node.find("a:ApplicationCodeType", _A)),
        "application_holder": text(node.find("a:ApplicationHolderId", _A)),
        "repayment_currency": text(node.find("a:AmountDuty/a:Currency", _A)),
        "duty_type": text(node.find("a:DutyType/a:UnionCode", _A)),
        "legal_basis": text(node.find("a:LegalBasis", _A)),
        "trader_grounds": text(node.find("a:TraderGroundsDescription", _A)),
    }
    path = xpath(_APPLICATION, "AmountDuty/Amount")
    amount = found.amount(text(node.find("a:AmountDuty/a:Amount", _A)), path)
    currency = found.currency(fields["repayment_currency"], xpath(_APPLICATION, "AmountDuty"))
    record.problems.extend(found.problems)
    if amount is not None:
        fields["repayment_amount"] = str(amount)
    fields["repayment_currency"] = currency
    record.references.update({k: v for k, v in fields.items() if v})


def _party(node: etree._Element | None, found: Collector, path: str) -> Party | None:
    """A party; identified by its EORI alone it needs no name or address (DE 13 04)."""
    if node is None:
        return None
    address = node.find("d:Address", _N)
    return Party(
        name=_t(node, "d:Name"),
        identifier=_t(node, "d:ID"),
        address=_t(address, "d:Line"),
        city=_t(address, "d:CityName"),
        postcode=_t(address, "d:PostcodeID"),
        country=found.country(_t(address, "d:CountryCode"), f"{path}/Address/CountryCode"),
    )


_SHIPMENT = "GoodsShipment"
_ITEM = "GoodsShipment/GovernmentAgencyGoodsItem"


def _hs_code(commodity: etree._Element | None) -> str | None:
    """HS subheading (6), with the CN (2) and TARIC (2) parts where the message splits them."""
    parts = {
        _t(c, "d:IdentificationTypeCode"): _t(c, "d:ID")
        for c in _all(commodity, "d:Classification")
    }
    hs = parts.get("HS")
    if hs and parts.get("CN"):
        hs = hs + (parts["CN"] or "")
        if parts.get("TRC"):
            hs = hs + (parts["TRC"] or "")
    return hs


def _item(node: etree._Element, index: int, found: Collector) -> tuple[Item, int, str | None]:
    """One goods item, its number of packages (DE 18 06) and its item-level currency."""
    path = xpath(_ITEM, index=index)
    commodity = node.find("d:Commodity", _N)
    charge = (
        commodity.find("d:InvoiceLine/d:ItemChargeAmount", _N) if commodity is not None else None
    )
    currency = (
        (charge.get("currencyID") or "").strip().upper() or None if charge is not None else None
    )
    packages = sum(
        (found.whole(_t(p, "d:QuantityQuantity"), f"{path}/Packaging/QuantityQuantity") or 0)
        for p in _all(node, "d:Packaging")
    )
    units = found.amount(
        _t(commodity, "d:GoodsMeasure/d:TariffQuantity"),
        f"{path}/Commodity/GoodsMeasure/TariffQuantity",
    )
    supplementary = units if units else None  # 0 means "no supplementary unit" in DMS samples
    whole = supplementary is not None and supplementary == supplementary.to_integral_value()
    origin = next(
        (_t(o, "d:CountryCode") for o in _all(node, "d:Origin") if _t(o, "d:TypeCode") == "1"),
        None,
    )
    description = _t(commodity, "d:Description")
    if not description:
        found.error(f"{path}/Commodity/Description", "h7.missing", "description is required")
    item = Item(
        description=description or "",
        # H7 carries no quantity of goods: supplementary units where given, else one line
        quantity=int(supplementary) if whole and supplementary is not None else 1,
        value=found.amount(text(charge), f"{path}/Commodity/InvoiceLine/ItemChargeAmount"),
        hs_code=found.hs(_hs_code(commodity), f"{path}/Commodity/Classification/ID"),
        origin_country=found.country(origin, f"{path}/Origin/CountryCode"),
        gross_mass_kg=found.amount(
            _t(commodity, "d:GoodsMeasure/d:GrossMassMeasure"),
            f"{path}/Commodity/GoodsMeasure/GrossMassMeasure",
        ),
        net_mass_kg=found.amount(
            _t(commodity, "d:GoodsMeasure/d:NetNetWeightMeasure"),
            f"{path}/Commodity/GoodsMeasure/NetNetWeightMeasure",
        ),
        supplementary_units=supplementary,
    )
    return item, packages, currency or None


def _procedures(
    node: etree._Element, index: int, found: Collector, procedure: str | None, extra: list[str]
) -> str | None:
    """DE 11 09 (requested + previous procedure) and DE 11 10 additional procedure codes."""
    for proc in _all(node, "d:GovernmentProcedure"):
        current = _t(proc, "d:CurrentCode") or ""
        previous = _t(proc, "d:PreviousCode")
        if len(current) == 2:
            code = current + (previous or "00")
            if procedure not in (None, code):
                found.warn(
                    xpath(_ITEM, "GovernmentProcedure", index=index), "h7.procedure", "items differ"
                )
            procedure = procedure or code
        elif current and current != "000" and current not in extra:
            extra.append(current)
    return procedure


def _document(
    root: etree._Element, category: str, found: Collector, ref: DeclarationReference
) -> FilingDocument | None:
    shipment = root.find("d:GoodsShipment", _N)
    if shipment is None:
        found.error(xpath(_SHIPMENT), "h7.missing", "a declaration needs a GoodsShipment")
        return None
    consignment = shipment.find("d:Consignment", _N)
    items_xml = _all(shipment, "d:GovernmentAgencyGoodsItem")
    transport_docs = _all(consignment, "d:TransportContractDocument") or [
        d for it in items_xml for d in _all(it, "d:TransportContractDocument")
    ]
    transport_document = _t(transport_docs[0], "d:ID") if transport_docs else None
    doc_type = _t(transport_docs[0], "d:Type") if transport_docs else None
    if not transport_document:
        found.error(
            xpath(_SHIPMENT, "Consignment/TransportContractDocument/ID"),
            "h7.transport_document",
            "the house transport document (DE 12 05) is required to identify the consignment",
        )
    importer = _party(shipment.find("d:Importer", _N), found, xpath(_SHIPMENT, "Importer"))
    office = ref.office
    destination = _t(shipment, "d:Destination/d:CountryCode") or (
        importer.country if importer else None
    )
    if destination is None and office and len(office) >= 2:
        destination = office[:2]  # the office of lodgement's country (DE 17 09)
    destination = found.country(destination, xpath(_SHIPMENT, "Destination/CountryCode"))
    if destination is None:
        found.error(
            xpath("DeclarationOfficeID"),
            "h7.destination",
            "the Member State of destination is unknown (no destination, importer country "
            "or office of lodgement)",
        )
    currencies: set[str] = set()
    items: list[Item] = []
    procedure_code: str | None = None
    additional: list[str] = []
    item_freight = Decimal(0)
    packages = 0
    for index, node in enumerate(items_xml):
        item, item_packages, currency = _item(node, index, found)
        items.append(item)
        packages += item_packages
        if currency:
            currencies.add(currency)
        procedure_code = _procedures(node, index, found, procedure_code, additional)
        rate = node.find("d:Freight/d:rate", _N)
        if rate is not None:
            item_freight += found.amount(text(rate), xpath(_ITEM, "Freight/rate", index=index)) or 0
    if not items:
        found.error(xpath(_ITEM), "h7.items", "no goods item")
    header_rate = consignment.find("d:Freight/d:rate", _N) if consignment is not None else None
    header_path = xpath(_SHIPMENT, "Consignment/Freight/rate")
    transport_cost = (
        found.amount(text(header_rate), header_path)
        if header_rate is not None
        else (item_freight if item_freight else None)
    )
    invoice = root.find("d:InvoiceAmount", _N)  # H1 header total (DE 14 06)
    if invoice is not None and not currencies and invoice.get("currencyID"):
        currencies.add((invoice.get("currencyID") or "").strip().upper())
    if len(currencies) > 1:
        found.error(
            xpath(_ITEM, "Commodity/InvoiceLine/ItemChargeAmount"),
            "h7.currency",
            f"items in mixed currencies: {sorted(currencies)}",
        )
    freight_currency = header_rate.get("currencyID") if header_rate is not None else None
    if freight_currency and currencies and freight_currency.strip().upper() not in currencies:
        found.warn(
            header_path,
            "h7.freight_currency",
            f"freight in {freight_currency} differs from the item currency; not carried over",
        )
        transport_cost = None
    elif freight_currency:
        currencies.add(freight_currency.strip().upper())
    currency = found.currency(
        next(iter(currencies), "EUR"),
        xpath(_ITEM, "Commodity/InvoiceLine/ItemChargeAmount") + "/@currencyID",
    )
    ioss = next(
        (
            _t(p, "d:ID")
            for p in _all(shipment, "d:DomesticDutyTaxParty")
            if _t(p, "d:RoleCode") == "FR5"
        ),
        None,
    )
    collection: Collection | None = None
    if ioss:
        collection = Collection("vendor", ioss)
    elif "F48" in additional:
        collection = Collection("vendor")
        found.warn(xpath(_SHIPMENT, "DomesticDutyTaxParty"), "h7.ioss_missing", "F48 without FR5")
    elif "F49" in additional:
        collection = Collection("intermediary")
    if ioss and "F48" not in additional:
        found.warn(
            xpath(_SHIPMENT, "DomesticDutyTaxParty"),
            "h7.ioss_without_f48",
            "an IOSS number (FR5) is declared but additional procedure F48 is not",
        )
    mode = DOC_TYPE_MODE.get(doc_type or "", "express")
    if found.failed:
        return None
    dispatch = _t(shipment, "d:DispatchCountry/d:ID") or _t(shipment, "d:ExportCountry/d:ID")
    return FilingDocument(
        filer_reference=ref.lrn or "",
        transport_document=transport_document or "",
        destination_country=destination or "",
        items=items,
        data_set="reduced" if category == "H7" else "full",
        mode=mode,
        dispatch_country=found.country(dispatch, xpath(_SHIPMENT, "DispatchCountry/ID")),
        currency=currency or "EUR",
        transport_cost=transport_cost,
        category="gift" if "C08" in additional else "sale_of_goods",
        collection=collection,
        consignor=_party(shipment.find("d:Consignor", _N), found, xpath(_SHIPMENT, "Consignor")),
        consignee=importer,
        office=office,
        gross_mass_kg=found.amount(
            _t(shipment, "d:GoodsMeasure/d:GrossMassMeasure"),
            xpath(_SHIPMENT, "GoodsMeasure/GrossMassMeasure"),
        ),
        packages=packages or None,
        procedure_code=procedure_code,
        additional_procedure_codes=additional,
        declaration=ref,
    )


# --- answers: clearway.ingestion.dms.answer builds them ------------------------------------
