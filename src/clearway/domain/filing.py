"""The canonical filing document (v1): the public contract every format is mapped to.

Field names here are a public contract: add fields, never rename. Amounts are decimal strings
on the wire and `Decimal` in memory. The structs decode straight from JSON with msgspec, which is
the hot path's decoder.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import msgspec

DataSet = Literal["pre_loading", "reduced", "full"]
Mode = Literal["post", "express", "air_cargo", "road", "rail", "sea"]
Category = Literal[
    "sale_of_goods", "gift", "documents", "commercial_sample", "returned_goods", "other"
]
CollectionModel = Literal["vendor", "intermediary", "consumer"]
FilerRole = Literal[
    "platform",
    "carrier",
    "post",
    "broker",
    "payment_provider",
    "agency",
    "officer",
    "analyst",
    "admin",
]
FILER_ROLES: tuple[str, ...] = FilerRole.__args__  # type: ignore[attr-defined]
FILING_ROLES = ("platform", "carrier", "post", "broker", "payment_provider")

MAX_ITEMS = 999


class Party(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A person or organisation named on a filing (WCO DM party classes)."""

    name: str | None = None
    address: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    identifier: str | None = None
    email: str | None = None


class Collection(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Who collects duty and tax: vendor (registration number on the parcel), intermediary or
    consumer."""

    model: CollectionModel = "consumer"
    registration_number: str | None = None


class Order(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The platform's order. `total` is what the buyer paid: goods_value + freight + tax −
    discount (China's CEB311 acturalPaid = goodsValue + freight + taxTotal − discount)."""

    id: str | None = None
    placed_at: datetime | None = None
    total: Decimal | None = None
    goods_value: Decimal | None = None  # the order's goods lines together
    tax: Decimal | None = None  # duty and tax the platform charged the buyer (CEB taxTotal)
    discount: Decimal | None = None  # deducted from the amount paid


class Payment(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    payer_name: str | None = None
    # the payment provider, as the declarant names it (by the name it is known to customs by,
    # or a number registered to it): its payment record may join the parcel (docs/security.md)
    provider: Party | None = None


class Item(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One goods line. `value` is the line value in the filing's currency."""

    description: str
    quantity: int = 1
    value: Decimal | None = None
    hs_code: str | None = None
    origin_country: str | None = None
    net_mass_kg: Decimal | None = None
    url: str | None = None
    gross_mass_kg: Decimal | None = None  # H7 DE 18 04 per item; CN23 per line
    # excise goods (docs/revenue.md): alcohol by volume and strength, tobacco by sticks or weight
    volume_litres: Decimal | None = None  # the line's total volume of product, litres
    alcohol_percent: Decimal | None = None  # actual alcoholic strength, % vol
    tobacco_sticks: int | None = None  # cigarettes (or cigars) on the line
    tobacco_grams: Decimal | None = None  # net tobacco weight of the line, grams
    supplementary_units: Decimal | None = None  # EU DE 18 02 (TariffQuantity) where the tariff asks


class DeclarationReference(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The customs declaration a filing is, or follows up (EU DMS header, EUCDM data elements).

    Kept as sent so a declarant and an officer see the message's own references.
    """

    procedure_category: str | None = None  # H7, H1 (CL10175)
    type_code: str | None = None  # DE 11 01/11 02: IMA, IMD (pre-lodged), COR, INV, RRA
    function_code: str | None = None  # 9 new, 4 amendment/correction, 1 invalidation, 37 RRA
    lrn: str | None = None  # DE 12 09 local reference number
    mrn: str | None = None  # DE 12 01 movement reference number (follow-ups name it)
    declarant: str | None = None  # DE 13 05 declarant EORI
    representative: str | None = None  # DE 13 06 representative EORI
    submitter: str | None = None  # the sending party's id
    office: str | None = None  # DE 17 09 customs office of lodgement
    change_reason_code: str | None = None  # amendment/invalidation reason (CL10057, CL10066)
    change_reason_text: str | None = None
    message_id: str | None = None  # H7: SHA-256 of the message as received; CEB: its guid


class FilingDocument(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One party's message about one consignment (canonical filing document v1)."""

    filer_reference: str
    transport_document: str
    destination_country: str
    items: list[Item]
    data_set: DataSet = "full"
    master_document: str | None = None
    mode: Mode = "post"
    legal_date: date | None = None
    dispatch_country: str | None = None
    currency: str = "EUR"
    transport_cost: Decimal | None = None
    insurance_cost: Decimal | None = None
    category: Category = "sale_of_goods"
    collection: Collection | None = None
    consignor: Party | None = None
    consignee: Party | None = None
    seller: Party | None = None
    platform: Party | None = None
    order: Order | None = None
    payment: Payment | None = None
    office: str | None = None  # customs office of arrival/destination, for work queues
    # Added for the message formats (all optional; see docs/formats.md):
    gross_mass_kg: Decimal | None = None  # whole consignment (H7 DE 18 04, CEB weight, CN23)
    packages: int | None = None  # number of packages (CEB packNo, CN23 number of items)
    procedure_code: str | None = None  # EU "4000" (DE 11 09) or CN trade mode "9610"/"1210"
    additional_procedure_codes: list[str] = []  # EU DE 11 10: C07, C08, F48, F49...
    buyer: Party | None = None  # the orderer when not the consignee (CEB buyer)
    carrier: Party | None = None  # the logistics company named in the message (CEB logistics)
    declaration: DeclarationReference | None = None  # the customs declaration's own references

    @property
    def intrinsic_value(self) -> Decimal:
        """Sum of item line values (the goods' value without transport and insurance)."""
        return sum((i.value for i in self.items if i.value is not None), Decimal(0))

    @property
    def collection_model(self) -> CollectionModel:
        return self.collection.model if self.collection else "consumer"


_DECODER = msgspec.json.Decoder(FilingDocument)
_BATCH_DECODER = msgspec.json.Decoder(list[FilingDocument])
_ENCODER = msgspec.json.Encoder(decimal_format="string")


def decode_filing(body: bytes | str) -> FilingDocument:
    """Decode and type-check one filing; raises msgspec.ValidationError / DecodeError."""
    return _DECODER.decode(body)


def encode(obj: object) -> bytes:
    """Canonical JSON bytes (decimals as strings), used for storage and hashing."""
    return _ENCODER.encode(obj)


def to_builtins(obj: object) -> object:
    return msgspec.to_builtins(obj)


def from_builtins(data: object) -> FilingDocument:
    return msgspec.convert(data, FilingDocument, strict=False)
