"""The answer a declarant's software reads back: one WCO DMS response (`RES-DMS:2`) builder.

Every answer has the response's `FunctionCode` (what happened: accepted, rejected, under
control, released, amount due…), its issue time, the errors — one `Error` per problem, with the
problem code as `ValidationCode`, its text as `Description` and the XPath of the offending
declaration element as `Pointer/Location` — and the declaration it answers (LRN, MRN, version,
acceptance time). An amount-due answer lists each duty and tax (`DutyTaxFee`, with the Union
tax type code: A00 customs duty, B00 VAT) and the total to pay. docs/formats.md shows one answer
of each kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree

from clearway.domain.consignment import Consignment
from clearway.ingestion.dms import mrn as mrns
from clearway.ingestion.dms.pointers import to_xpath
from clearway.kernel.errors import Problem

RESPONSE_NS = "urn:wco:datamodel:WCO:RES-DMS:2"


@dataclass(frozen=True, slots=True)
class Kind:
    function_code: str  # Response/FunctionCode
    name: str  # the notification's name in the DMS systems (for people reading logs)


# answer status -> response function code (national DMS notification codes)
KINDS: dict[str, Kind] = {
    "accepted": Kind("01", "DMSACC"),
    "released": Kind("02", "DMSCLE"),
    "rejected": Kind("03", "DMSREJ"),
    "control": Kind("05", "DMSCTL"),
    "documents_requested": Kind("06", "DMSDOC"),
    "received": Kind("09", "DMSRCV"),
    "amount_due": Kind("13", "DMSTAX"),
    "invalidated": Kind("14", "DMSINV"),
}
TAX_TYPES = {"duty": "A00", "vat": "B00"}  # Union tax type codes (DE 14 03)


@dataclass(frozen=True, slots=True)
class Due:
    """One duty or tax owed, in the assessment's currency."""

    kind: str  # duty, vat, excise, fee…
    amount: Decimal


def render(
    *,
    status: str,
    lrn: str,
    mrn: str | None = None,
    problems: Sequence[Problem] = (),
    at: datetime | None = None,
    version: int | None = None,
    accepted_at: datetime | None = None,
    due: Sequence[Due] = (),
    currency: str | None = None,
) -> bytes:
    """The DMS response for one declaration; `status` is a key of KINDS."""
    if status not in KINDS:
        raise ValueError(f"unknown answer status {status!r}; one of {sorted(KINDS)}")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    root = etree.Element(f"{{{RESPONSE_NS}}}Response", nsmap={"res": RESPONSE_NS})

    def el(parent: etree._Element, name: str, value: object | None = None) -> etree._Element:
        node = etree.SubElement(parent, f"{{{RESPONSE_NS}}}{name}")
        if value is not None:
            node.text = str(value)
        return node

    def stamp(parent: etree._Element, name: str, moment: datetime) -> None:
        text = moment.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "Z"
        el(el(parent, name), "DateTimeString", text).set("formatCode", "304")

    el(root, "FunctionCode", KINDS[status].function_code)
    stamp(root, "IssueDateTime", when)
    for number, problem in enumerate(problems, start=1):
        error = el(root, "Error")
        el(error, "ValidationCode", problem.code)
        el(error, "Description", problem.message[:512])
        pointer = el(error, "Pointer")
        el(pointer, "SequenceNumeric", number)
        el(pointer, "Location", to_xpath(problem.path))
    declaration = el(root, "Declaration")
    if accepted_at is not None and status != "rejected":
        stamp(declaration, "AcceptanceDateTime", accepted_at)
    el(declaration, "FunctionalReferenceID", lrn)
    if mrn:
        el(declaration, "ID", mrn)
    if version is not None:
        el(declaration, "VersionID", version)
    if due and currency:
        for line in due:
            fee = el(declaration, "DutyTaxFee")
            el(fee, "TypeCode", TAX_TYPES.get(line.kind, line.kind))
            el(el(fee, "Payment"), "PaymentAmount", f"{line.amount:.2f}").set(
                "currencyID", currency
            )
        total = sum((line.amount for line in due), Decimal(0))
        el(declaration, "TotalPaymentAmount", f"{total:.2f}").set("currencyID", currency)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def is_dms(c: Consignment) -> bool:
    """Was the parcel declared in a DMS message (H7, H1)?"""
    ref = c.document.declaration
    return ref is not None and ref.procedure_category in ("H7", "H1")


def status_of(c: Consignment, *, documents_requested: bool = False) -> str:
    """What the declarant is told about the declaration in its current state."""
    lane = c.decision.lane if c.decision else None
    if c.status == "invalidated":
        return "invalidated"
    if c.status == "released":
        return "released"
    if documents_requested:
        return "documents_requested"
    if c.status in ("held", "inspected") or lane in ("yellow", "red"):
        return "control"
    if c.status in ("filed", "referred"):
        return "received"  # accepted; the decision follows (queued runtime)
    if c.assessment is not None and c.assessment.total > 0:
        return "amount_due"
    return "accepted"


def for_consignment(
    c: Consignment,
    *,
    mrn: str | None = None,
    at: datetime | None = None,
    documents_requested: bool = False,
    problems: Sequence[Problem] = (),
) -> bytes:
    """The DMS answer for a declaration as it stands (acceptance, amount due, control,
    release, invalidation); the MRN is the one issued for the consignment."""
    ref = c.document.declaration
    status = status_of(c, documents_requested=documents_requested)
    due: list[Due] = []
    currency = None
    if status == "amount_due" and c.assessment is not None:
        currency = c.assessment.currency
        kinds: dict[str, Decimal] = {}
        for charge in c.assessment.charges:
            kinds[charge.kind] = kinds.get(charge.kind, Decimal(0)) + charge.amount
        due = [Due(kind, amount) for kind, amount in kinds.items() if amount]
    country = c.document.destination_country
    accepted = c.created_at or c.updated_at or datetime.now(UTC)
    return render(
        status=status,
        lrn=(ref.lrn if ref and ref.lrn else c.document.filer_reference),
        mrn=mrn or mrns.for_consignment(c.id, accepted.year, country),
        problems=problems,
        at=at or c.updated_at,
        version=c.version,
        accepted_at=accepted,
        due=due,
        currency=currency,
    )
