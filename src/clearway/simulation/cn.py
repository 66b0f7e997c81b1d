"""China demo traffic as Chinese enterprises send it: Chinese goods names, the orderer's resident
ID number, enterprise codes, and the four CEB messages of one parcel (CEB311 order, CEB621
inventory, CEB411 payment, CEB511 waybill); for a few parcels, after release, the declarant's
CEB625 return request and the logistics company's CEB711 listing the goods back.

Everything is derived deterministically from the parcel (its reference seeds the choices), so
the same generated day gives the same messages.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

import msgspec
import yaml

from clearway.domain.filing import Collection, FilingDocument, Party
from clearway.ingestion import ceb

# GB 11643-1999: weights of the 17 digits and the check character for sum mod 11
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
RETURN_SHARE = 0.04  # of China parcels: the orderer sends (some of) the goods back after release
RETURN_REASONS = ("七天无理由退货", "尺码不合适", "商品与描述不符", "商品破损")
CUSTOMS_CODE = "2244"  # the customs office the demo's inventories are declared at


@cache
def _names() -> dict[str, Any]:
    text = resources.files("clearway.simulation").joinpath("cn_names.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def id_number(region: str, born: date, serial: int) -> str:
    """An 18-character resident ID number with its check character (GB 11643-1999)."""
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + _CHECK[total % 11]


def id_valid(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return number[17].upper() == _CHECK[total % 11]


def enterprise_code(name: str, area: str = "3101") -> str:
    """A 10-character customs enterprise code: area (4), kind (1: 9 for e-commerce), serial."""
    return f"{area}9{zlib.crc32(name.encode('utf-8')) % 100_000:05d}"


def goods_name(description: str) -> str:
    goods: dict[str, str] = _names()["goods"]
    return goods.get(description, description)


def localise(doc: FilingDocument) -> FilingDocument:
    """The parcel as a Chinese platform lists it: Chinese goods names, a Chinese orderer with a
    resident ID number who is also the consignee, a Chinese address, enterprise codes for the
    platform, seller and carrier, and the platform withholding the tax (intermediary)."""
    rng = random.Random(zlib.crc32(doc.filer_reference.encode()))
    names = _names()
    city, region, districts = rng.choice(names["cities"])
    person = rng.choice(names["surnames"]) + rng.choice(names["given"])
    born = date(rng.randint(1965, 2002), rng.randint(1, 12), rng.randint(1, 28))
    buyer = Party(
        name=person,
        identifier=id_number(region, born, rng.randint(0, 999)),
        address=f"{city}{rng.choice(districts)}{rng.choice(names['streets'])}"
        f"{rng.randint(1, 999)}号",
        city=city,
        country="CN",
    )

    def coded(party: Party | None, area: str) -> Party | None:
        if party is None or not party.name:
            return party
        return msgspec.structs.replace(party, identifier=enterprise_code(party.name, area))

    items = [msgspec.structs.replace(i, description=goods_name(i.description)) for i in doc.items]
    payment = doc.payment
    orderer = doc.consignee.name if doc.consignee else None
    if payment is not None and payment.payer_name == orderer:
        payment = msgspec.structs.replace(payment, payer_name=person)  # the orderer pays
    return msgspec.structs.replace(
        doc,
        items=items,
        buyer=buyer,
        consignee=buyer,
        payment=payment,
        platform=coded(doc.platform, "3101"),
        seller=coded(doc.seller, "3101"),
        carrier=coded(doc.carrier, "4403"),
        collection=Collection(model="intermediary"),
        office=CUSTOMS_CODE,
    )


@dataclass(frozen=True)
class CnMessages:
    order: bytes  # CEB311, the platform
    inventory: bytes  # CEB621, the platform as its own declaring agent
    payment: bytes  # CEB411, the payment company
    waybill: bytes  # CEB511, the logistics company


def render(doc: FilingDocument, *, pay: Party, paid: FilingDocument | None = None) -> CnMessages:
    """The four messages of one parcel; `paid` is the document the payment company reports
    (another amount or payer on purpose for a mismatch), else `doc`."""
    from clearway.simulation.formats import cn_legs

    assert pay.identifier and pay.name
    legs = cn_legs(doc, pay_code=pay.identifier, pay_name=pay.name, carrier=doc.carrier)
    payment = (
        cn_legs(paid, pay_code=pay.identifier, pay_name=pay.name, carrier=doc.carrier).payment
        if paid is not None
        else legs.payment
    )
    platform = doc.platform or Party(name="platform")
    inventory = ceb.render_inventory(
        doc,
        agent=platform,
        customs_code=CUSTOMS_CODE,
        assure_code=platform.identifier,
    )
    return CnMessages(legs.order, inventory, payment, legs.waybill)


@dataclass(frozen=True)
class CnReturn:
    """A released parcel whose orderer sends goods back: the platform, which declared the
    inventory, files the CEB625 return request; the logistics company brings the goods back
    into the supervised site and lists the waybill on its CEB711 warehouse entry."""

    doc: FilingDocument  # the parcel as declared (localised)
    platform: str  # operator of the CEB311/CEB621, the declarant
    carrier: str  # operator of the CEB511
    returned: tuple[tuple[int, int], ...]  # (item index, quantity)
    reason: str

    @property
    def transport_document(self) -> str:
        return self.doc.transport_document or ""

    def request(self, invt_no: str, at: datetime | None = None) -> bytes:
        """The CEB625, quoting the inventory number customs gave (the CEB622's invtNo)."""
        platform = self.doc.platform or Party(name=self.platform)
        return ceb.render_refund(
            self.doc,
            agent=platform,
            invt_no=invt_no,
            reason=self.reason,
            returned=self.returned,
            customs_code=CUSTOMS_CODE,
            at=at,
        )


def returning(doc: FilingDocument, platform: str, carrier: str) -> CnReturn | None:
    """Whether the parcel's orderer returns goods (a deterministic share of parcels, chosen by
    the parcel's reference so the rest of the traffic is unchanged), and which."""
    rng = random.Random(zlib.crc32(f"return:{doc.filer_reference}".encode()))
    if rng.random() >= RETURN_SHARE or not doc.items:
        return None
    if rng.random() < 0.6:  # the whole parcel goes back
        lines = [(i, item.quantity) for i, item in enumerate(doc.items)]
    else:  # one line, all or part of it
        i = rng.randrange(len(doc.items))
        lines = [(i, rng.randint(1, doc.items[i].quantity))]
    return CnReturn(doc, platform, carrier, tuple(lines), rng.choice(RETURN_REASONS))


def warehouse_entry(
    returns: list[CnReturn], *, reference: str, at: datetime | None = None
) -> bytes:
    """One logistics company's CEB711 listing the waybills of the returned parcels it brought
    back into the supervised site (all of `returns` share its carrier)."""
    carrier = returns[0].doc.carrier or Party(name=returns[0].carrier)
    return ceb.render_delivery(
        [r.transport_document for r in returns],
        operator=carrier,
        carrier=carrier,
        reference=reference,
        customs_code=CUSTOMS_CODE,
        at=at,
    )
