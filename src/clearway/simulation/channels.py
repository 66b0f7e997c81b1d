"""How each synthetic parcel reaches customs: which parties send which messages in which format.

Most platforms file canonical JSON; an EU customs broker lodges DMS declarations for express
parcels (H7 for low-value ones, H1 for the full data set, some for importers known by their EORI
number alone); a small shop uploads an Excel-exported CSV; for China the platform sends its
CEB311 order and declares the CEB621 inventory, matched with the payment company's CEB411 and
the logistics company's CEB511 (Chinese goods names, ID numbers, enterprise codes: `cn.py`),
and a few parcels come back after release (CEB625 and CEB711, `cn.CnReturn`);
express carriers send ICS2-style pre-loading data first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

import msgspec

from clearway.domain.filing import FilingDocument, Party, from_builtins
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.tariff import Tariff
from clearway.simulation import cn
from clearway.simulation.formats import csv_file, h7_declaration
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
EORI_ONLY_SHARE = 0.25  # of the broker's clean declarations: business importers with an EORI


def _cn_coded(doc: FilingDocument) -> FilingDocument:
    """H1 names each item's CN subheading (8 digits): the broker classifies a 6-digit code to a
    line of the EU tariff under it (the tariff's own line for the subheading)."""
    tariff = _eu_tariff()
    items = []
    for item in doc.items:
        hit = tariff.lookup(item.hs_code) if item.hs_code and tariff else None
        code = hit.code if hit is not None and len(hit.code) >= 8 else item.hs_code
        items.append(msgspec.structs.replace(item, hs_code=code))
    return msgspec.structs.replace(doc, items=items)


@cache
def _eu_tariff() -> Tariff | None:
    assessor = PackAssessor.load_default()
    rules = assessor.rules("DE", date(2026, 11, 2))
    name = rules.value("duty.tariff") if rules else None
    return assessor.tariffs.get(name) if name else None


def _eori(country: str, rng: random.Random) -> str:
    """An EORI number of the destination's format: country code and up to 15 digits."""
    return f"{country}{rng.randrange(10**11, 10**12)}"


@dataclass(frozen=True)
class Message:
    """One message from one party: a canonical filing (as a dict) or rendered bytes."""

    operator: str
    role: str
    format: str  # json, h7, ceb, csv
    content: bytes


def _json(operator: str, role: str, filing: dict[str, object]) -> Message:
    return Message(operator, role, "json", msgspec.json.encode(filing))


def messages(
    parcels: Iterable[GeneratedParcel], seed: int = 0, returns: list[cn.CnReturn] | None = None
) -> Iterator[Message]:
    """The day's messages, parcel by parcel (CSV uploads come last, as one file). China parcels
    whose goods will come back after release are added to `returns` when it is given: their
    CEB625 quotes the inventory number customs gives on release, so it is rendered later."""
    rng = random.Random(seed)
    csv_docs: list[FilingDocument] = []
    for p in parcels:
        final = p.filings[-1]
        platform = str(final.get("platform", {}).get("name", "Unknown Platform"))
        dest = final["destination_country"]
        for pre in p.filings[:-1] if dest != "CN" else []:
            # pre-loading data comes from the carrier (an ICS2-style regime: not China's, whose
            # parcels are declared by inventory)
            yield _json(PRE_LOADING_CARRIER, "carrier", pre)
        doc = from_builtins(final)
        if dest == "CN":
            # the platform sends its order (CEB311) and declares the inventory (CEB621) itself;
            # the payment company and the logistics company it names send theirs
            _, pay_name = rng.choice(PAYMENT_PROVIDERS)
            carrier = rng.choice(CARRIERS)
            yield from _cn_messages(doc, p, platform, Party(name=pay_name), carrier, returns)
        elif (
            dest in EU
            and (
                final["data_set"] == "reduced" or (final["data_set"] == "full" and not p.violations)
            )
            and final["mode"] in ("express", "air_cargo")
            and rng.random() < 0.4
            and len(p.filings) == 1
        ):
            # the broker lodges H7 (reduced) or H1 (full); a business importer is named by its
            # EORI number alone, as H7 and H1 allow
            if doc.data_set == "full":
                doc = _cn_coded(doc)
            if not p.violations and rng.random() < EORI_ONLY_SHARE:
                doc = msgspec.structs.replace(doc, consignee=Party(identifier=_eori(dest, rng)))
            yield Message(BROKER, "broker", "h7", h7_declaration(doc))
        elif platform == SMALL_SHOP_PLATFORM and dest in EU | {"GB"} and rng.random() < 0.5:
            csv_docs.append(doc)
        else:
            yield _json(platform, "platform", final)
    if csv_docs:
        yield Message(SMALL_SHOP_PLATFORM, "platform", "csv", csv_file(csv_docs, excel=True))


def _cn_messages(
    doc: FilingDocument,
    p: GeneratedParcel,
    platform: str,
    pay: Party,
    carrier: Party,
    returns: list[cn.CnReturn] | None = None,
) -> Iterator[Message]:
    local = cn.localise(msgspec.structs.replace(doc, carrier=carrier))
    pay = Party(name=pay.name, identifier=cn.enterprise_code(str(pay.name)))
    paid = None
    if "payment_mismatch" in p.violations and local.payment is not None:
        # the payment record shows less money, paid by someone else: a classic mismatch
        amount = (local.payment.amount or Decimal(0)) * Decimal("0.55")
        paid = msgspec.structs.replace(
            local,
            payment=msgspec.structs.replace(
                local.payment, amount=amount.quantize(Decimal("0.01")), payer_name="周敏"
            ),
            buyer=Party(name="周敏", identifier=cn.id_number("310115", date(1990, 5, 17), 42)),
        )
    sent = cn.render(local, pay=pay, paid=paid)
    yield Message(platform, "platform", "ceb", sent.order)
    yield Message(platform, "platform", "ceb", sent.inventory)
    yield Message(str(pay.name), "payment_provider", "ceb", sent.payment)
    yield Message(str(carrier.name), "carrier", "ceb", sent.waybill)
    if returns is not None and not p.violations:
        back = cn.returning(local, platform, str(carrier.name))
        if back is not None:
            returns.append(back)
