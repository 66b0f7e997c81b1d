"""How each synthetic parcel reaches customs: which parties send which messages in which format.

Most platforms file canonical JSON; an EU customs broker files H7 declarations for low-value
express parcels; a small shop uploads an Excel-exported CSV; for China the platform's filing is
matched with the payment provider's CEB411 payment record and the carrier's CEB511 waybill;
express carriers send ICS2-style pre-loading data first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from clearway.domain.filing import FilingDocument, Party, from_builtins
from clearway.simulation.formats import cn_legs, csv_file, h7_declaration
from clearway.simulation.generator import GeneratedParcel

EU = frozenset({"DE", "FR", "NL", "IT", "ES", "PL", "BE", "AT", "IE", "SE", "DK"})
BROKER = "EuroClear Brokers BV"
SMALL_SHOP_PLATFORM = "Anatolia Market"
CARRIERS = (
    Party(name="SF Express", identifier="SF0001"),
    Party(name="China Post EMS", identifier="EMS001"),
)
PAYMENT_PROVIDERS = (("PAY0001", "Alipay"), ("PAY0002", "WeChat Pay"))
PRE_LOADING_CARRIER = "Swift Air Express"


@dataclass(frozen=True)
class Message:
    """One message from one party: a canonical filing (as a dict) or rendered bytes."""

    operator: str
    role: str
    format: str  # json, h7, ceb, csv
    content: bytes


def _json(operator: str, role: str, filing: dict[str, object]) -> Message:
    return Message(operator, role, "json", msgspec.json.encode(filing))


def messages(parcels: Iterable[GeneratedParcel], seed: int = 0) -> Iterator[Message]:
    """The day's messages, parcel by parcel (CSV uploads come last, as one file)."""
    rng = random.Random(seed)
    csv_docs: list[FilingDocument] = []
    for p in parcels:
        final = p.filings[-1]
        platform = str(final.get("platform", {}).get("name", "Unknown Platform"))
        for pre in p.filings[:-1]:  # pre-loading data comes from the carrier
            yield _json(PRE_LOADING_CARRIER, "carrier", pre)
        dest = final["destination_country"]
        doc = from_builtins(final)
        if dest == "CN":
            # the platform names its payment provider and carrier, whose records then join
            pay_code, pay_name = rng.choice(PAYMENT_PROVIDERS)
            carrier = rng.choice(CARRIERS)
            named = dict(final)
            if isinstance(named.get("payment"), dict):
                named["payment"] = {
                    **named["payment"],
                    "provider": {"name": pay_name, "identifier": pay_code},
                }
            named["carrier"] = {"name": carrier.name, "identifier": carrier.identifier}
            yield _json(platform, "platform", named)
            yield from _cn_legs(doc, p, (pay_code, pay_name), carrier)
        elif (
            dest in EU
            and final["data_set"] == "reduced"
            and final["mode"] in ("express", "air_cargo")
            and rng.random() < 0.4
            and len(p.filings) == 1
        ):
            yield Message(BROKER, "broker", "h7", h7_declaration(doc))
        elif platform == SMALL_SHOP_PLATFORM and dest in EU | {"GB"} and rng.random() < 0.5:
            csv_docs.append(doc)
        else:
            yield _json(platform, "platform", final)
    if csv_docs:
        yield Message(SMALL_SHOP_PLATFORM, "platform", "csv", csv_file(csv_docs, excel=True))


def _cn_legs(
    doc: FilingDocument, p: GeneratedParcel, provider: tuple[str, str], carrier: Party
) -> Iterator[Message]:
    pay_code, pay_name = provider
    paid = doc
    if "payment_mismatch" in p.violations and doc.payment is not None:
        # the payment record shows less money, paid by someone else: a classic mismatch
        amount = (doc.payment.amount or Decimal(0)) * Decimal("0.55")
        paid = msgspec.structs.replace(
            doc,
            payment=msgspec.structs.replace(
                doc.payment, amount=amount.quantize(Decimal("0.01")), payer_name="Zhou Min"
            ),
        )
    legs = cn_legs(paid, pay_code=pay_code, pay_name=pay_name, carrier=carrier)
    yield Message(pay_name, "payment_provider", "ceb", legs.payment)
    yield Message(str(carrier.name), "carrier", "ceb", cn_legs(doc, carrier=carrier).waybill)
