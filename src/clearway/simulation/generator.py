"""Generate realistic synthetic e-commerce filings with planted violations.

Every planted violation is written to the ground truth, so the demo and the risk evaluation can
count what the engine caught. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

from clearway.kernel.codes import make_s10

VIOLATIONS = (
    "undervaluation",
    "wrong_hs_code",
    "vague_description",
    "split_shipment",
    "prohibited_goods",
    "missing_registration",
    "invalid_registration",
    "bad_s10",
    "payment_mismatch",
)
# Share of parcels that carry each planted violation.
DEFAULT_RATES: dict[str, float] = {
    "undervaluation": 0.03,
    "wrong_hs_code": 0.015,
    "vague_description": 0.015,
    "split_shipment": 0.01,
    "prohibited_goods": 0.005,
    "missing_registration": 0.01,
    "invalid_registration": 0.01,
    "bad_s10": 0.005,
    "payment_mismatch": 0.01,  # China only: the payment record disagrees with the order
}
# The low-value threshold a splitter aims under, per destination currency (used only to shape
# synthetic split shipments; the legal thresholds live in the revenue packs).
_SPLIT_TARGET = {"EUR": 150, "GBP": 135, "USD": 800, "AUD": 1000, "CNY": 5000}
FIRST = [
    "Anna",
    "Lukas",
    "Marie",
    "Jonas",
    "Sofia",
    "Luca",
    "Emma",
    "Noah",
    "Mia",
    "Leon",
    "Olivia",
    "James",
    "Chloe",
    "Jack",
    "Wei",
    "Li",
    "Fang",
    "Ava",
    "Ethan",
    "Zoe",
]
LAST = [
    "Müller",
    "Schmidt",
    "Martin",
    "Bernard",
    "Rossi",
    "García",
    "Kowalski",
    "de Vries",
    "Smith",
    "Jones",
    "Brown",
    "Wang",
    "Zhang",
    "Chen",
    "Taylor",
    "Wilson",
    "Nguyen",
]
STREETS = [
    "Hauptstraße",
    "Rue de la Paix",
    "Via Roma",
    "Calle Mayor",
    "Kerkstraat",
    "High Street",
    "Main Street",
    "George Street",
    "Nanjing Road",
    "ul. Długa",
]
CITIES = {
    "DE": "Berlin",
    "FR": "Lyon",
    "NL": "Utrecht",
    "IT": "Milano",
    "ES": "Sevilla",
    "PL": "Kraków",
    "GB": "Leeds",
    "US": "Columbus",
    "AU": "Brisbane",
    "CN": "Shanghai",
}
SELLERS = [
    "Shenzhen Bright Trading Co",
    "Yiwu Star Goods Ltd",
    "HK Pearl Commerce Ltd",
    "Istanbul Moda Ltd",
    "Seoul Beauty Co",
    "Osaka Select KK",
    "Delhi Crafts Pvt Ltd",
    "Hanoi Textile JSC",
    "Portland Outfitters LLC",
    "Manchester Makers Ltd",
]
CENT = Decimal("0.01")


@cache
def catalogue() -> dict[str, Any]:
    text = resources.files("clearway.simulation").joinpath("catalogue.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass
class GeneratedParcel:
    filings: list[dict[str, Any]]
    violations: list[str] = field(default_factory=list)

    @property
    def truth(self) -> dict[str, Any]:
        last = self.filings[-1]
        return {
            "transport_document": last["transport_document"],
            "filer_reference": last["filer_reference"],
            "destination_country": last["destination_country"],
            "violations": self.violations,
        }


class TrafficGenerator:
    def __init__(
        self, seed: int = 0, day: date | None = None, rates: dict[str, float] | None = None
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.day = day or date(2026, 11, 2)
        self.rates = rates or DEFAULT_RATES
        cat = catalogue()
        self.products: list[dict[str, Any]] = cat["products"]
        self.prohibited: list[dict[str, Any]] = cat["prohibited"]
        self.vague: list[str] = cat["vague"]
        self.platforms: list[dict[str, str]] = cat["platforms"]
        self.destinations = {k: (v[0], v[1], Decimal(v[2])) for k, v in cat["destinations"].items()}
        self.origins: dict[str, int] = cat["origins"]
        self._serial = 0
        # registration numbers belong to the platform, whatever the day's seed
        self._iosss = [
            f"IM{1_000_000_000 + zlib.crc32(p['identifier'].encode()) % 9_000_000_000}"
            for p in self.platforms
        ]

    # ------------------------------------------------------------------ public
    def parcels(self, n: int) -> Iterator[GeneratedParcel]:
        made = 0
        while made < n:
            if self.rng.random() < self.rates.get("split_shipment", 0) / 2.5 and n - made >= 2:
                group = self._split_group(min(n - made, self.rng.randint(2, 4)))
                made += len(group)
                yield from group
                continue
            made += 1
            yield self._parcel(self._pick_violations())

    # ------------------------------------------------------------------ building blocks
    def _pick_violations(self) -> list[str]:
        out = []
        for v in VIOLATIONS:
            if v != "split_shipment" and self.rng.random() < self.rates.get(v, 0):
                out.append(v)
        return out[:1]  # one planted violation per parcel keeps the ground truth unambiguous

    def _weighted(self, table: dict[str, Any], idx: int | None = None) -> str:
        keys = list(table)
        weights = [table[k][idx] if idx is not None else table[k] for k in keys]
        return self.rng.choices(keys, weights)[0]

    def _party(self, country: str) -> dict[str, Any]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        return {
            "name": f"{first} {last}",
            "address": f"{self.rng.choice(STREETS)} {self.rng.randint(1, 180)}",
            "city": CITIES.get(country, "Capital"),
            "postcode": f"{self.rng.randint(10000, 99999)}",
            "country": country,
            "email": f"{first.lower()}.{self.rng.randint(1, 9999)}@example.net",
        }

    def _money(self, usd: float, factor: Decimal) -> Decimal:
        return (Decimal(str(round(usd, 2))) * factor).quantize(CENT, ROUND_HALF_UP)

    def _transport_document(self, mode: str, origin: str) -> str:
        self._serial += 1
        serial = (self.seed * 7_919 + self._serial) % 100_000_000
        if mode == "post":
            return make_s10(self.rng.choice(["LX", "RR", "UA", "LP", "CP"]), serial, origin)
        if mode == "express":
            return f"{self.rng.randint(10, 99)}{serial:08d}"
        return f"H{origin}{serial:08d}"

    def _parcel(
        self,
        violations: list[str],
        *,
        fixed: dict[str, Any] | None = None,
        target: Decimal | None = None,
    ) -> GeneratedParcel:
        rng = self.rng
        fixed = fixed or {}
        dest = fixed.get("destination") or self._weighted(self.destinations, 1)
        if "payment_mismatch" in violations:
            dest = "CN"
        currency, _, factor = self.destinations[dest]
        origin = fixed.get("origin") or self._weighted(self.origins)
        if origin == dest:
            origin = "CN"
        platform = fixed.get("platform") or rng.choice(self.platforms)
        mode = rng.choices(["post", "express", "air_cargo", "road"], [50, 35, 12, 3])[0]
        if "bad_s10" in violations:
            mode = "post"
        n_items = rng.choices([1, 2, 3, 4], [70, 18, 8, 4])[0]
        items = []
        for _ in range(n_items):
            p = rng.choice(self.products)
            qty = rng.choices([1, 2, 3, 5], [75, 15, 6, 4])[0]
            unit = rng.uniform(*p["price"])
            items.append(
                {
                    "description": p["description"],
                    "hs_code": p["hs"],
                    "quantity": qty,
                    "value": self._money(unit * qty, factor),
                    "origin_country": origin,
                    "net_mass_kg": Decimal(str(round(rng.uniform(*p["mass"]) * qty, 3))),
                }
            )
        if target is not None:  # split shipments: shape the value just under the threshold
            items = items[:1]
            items[0]["value"] = target
        true_total = sum((i["value"] for i in items), Decimal(0))
        if "prohibited_goods" in violations:
            p = rng.choice(self.prohibited)
            items[0].update(
                description=p["description"],
                hs_code=p["hs"],
                value=self._money(rng.uniform(*p["price"]), factor),
            )
            true_total = sum((i["value"] for i in items), Decimal(0))
        if "vague_description" in violations:
            items[0]["description"] = rng.choice(self.vague)
        if "wrong_hs_code" in violations:
            other = rng.choice([p for p in self.products if p["hs"][:2] != items[0]["hs_code"][:2]])
            items[0]["hs_code"] = other["hs"]
        shipping = self._money(rng.uniform(3, 25), factor)
        order_total = true_total + shipping
        if "undervaluation" in violations:
            share = Decimal(str(round(rng.uniform(0.08, 0.3), 2)))
            for it in items:
                it["value"] = (it["value"] * share).quantize(CENT, ROUND_HALF_UP)
            if rng.random() < 0.5:  # half also falsify the order record
                order_total = sum((i["value"] for i in items), Decimal(0)) + shipping
        declared = sum((i["value"] for i in items), Decimal(0))
        collection = self._collection(dest, currency, declared, platform, violations)
        seq = self._serial + 1
        td = self._transport_document(mode, origin)
        if "bad_s10" in violations:
            wrong = (int(td[10]) + 1 + rng.randint(0, 8)) % 10
            td = td[:10] + str(wrong) + td[11:]
        at = datetime.combine(self.day, time(rng.randint(0, 23), rng.randint(0, 59)))
        seller_name = fixed.get("seller") or rng.choice(SELLERS)
        consignee = fixed.get("consignee") or self._party(dest)
        ref = f"{platform['identifier']}-{self.seed}-{seq:07d}"
        doc: dict[str, Any] = {
            "filer_reference": ref,
            "data_set": "reduced"
            if declared <= _SPLIT_TARGET[currency] and dest != "US"
            else "full",
            "transport_document": td,
            "mode": mode,
            "legal_date": self.day.isoformat(),
            "destination_country": dest,
            "dispatch_country": origin,
            "currency": currency,
            "transport_cost": shipping,
            "category": rng.choices(
                ["sale_of_goods", "gift", "returned_goods", "commercial_sample"], [94, 3, 2, 1]
            )[0],
            "collection": collection,
            "consignor": {
                "name": seller_name,
                "address": "Industrial Park 8",
                "postcode": f"{10000 + zlib.crc32(seller_name.encode()) % 89999}",
                "city": "Shenzhen" if origin == "CN" else "Export City",
                "country": origin,
            },
            "consignee": consignee,
            "seller": {
                "name": seller_name,
                "country": origin,
                "identifier": f"S-{zlib.crc32(seller_name.encode()) % 10**6:06d}",
            },
            "platform": {
                "name": platform["name"],
                "identifier": platform["identifier"],
                "country": platform["country"],
            },
            "order": {"id": f"O-{ref}", "placed_at": at.isoformat() + "Z", "total": order_total},
            "payment": {
                "id": f"P-{ref}",
                "amount": order_total,
                "currency": currency,
                "payer_name": consignee["name"],
            },
            "items": items,
            "office": f"{dest}-HUB-{1 + (seq % 3)}",
        }
        if doc["category"] == "gift":
            doc["collection"] = {"model": "consumer"}
        if doc["collection"].get("model") != "vendor":
            # a registration number can only be missing or wrong where the vendor collects
            violations[:] = [
                v for v in violations if v not in ("missing_registration", "invalid_registration")
            ]
        filings = [_jsonable(doc)]
        if mode in ("express", "air_cargo") and rng.random() < 0.2 and not violations:
            pre = {
                k: doc[k]
                for k in (
                    "transport_document",
                    "mode",
                    "destination_country",
                    "dispatch_country",
                    "currency",
                    "consignor",
                    "consignee",
                    "legal_date",
                    "office",
                )
            }
            pre.update(
                filer_reference=f"{ref}-PLACI",
                data_set="pre_loading",
                items=[{"description": i["description"], "quantity": i["quantity"]} for i in items],
            )
            filings.insert(0, _jsonable(pre))
        return GeneratedParcel(filings, violations)

    def _collection(
        self,
        dest: str,
        currency: str,
        declared: Decimal,
        platform: dict[str, str],
        violations: list[str],
    ) -> dict[str, Any]:
        low = declared <= _SPLIT_TARGET[currency]
        if dest == "US" or not low:
            return {"model": "consumer"}
        if dest in ("GB", "AU", "CN") or self.rng.random() < 0.8:
            number = self._registration(dest, platform)
            if "missing_registration" in violations:
                return {"model": "vendor"}
            if "invalid_registration" in violations:
                number = number[:2] + "X" + number[5:]
            return {"model": "vendor", "registration_number": number}
        return {"model": "intermediary"}

    def registrations(self) -> list[tuple[str, str, str, str]]:
        """Every platform's genuine numbers: (platform, number, scheme, jurisdiction)."""
        out = []
        for p in self.platforms:
            for dest, scheme, jurisdiction in (
                ("DE", "ioss", "EU"),
                ("GB", "uk_vat", "GB"),
                ("AU", "au_gst", "AU"),
                ("CN", "cbec", "CN"),
            ):
                out.append((p["name"], self._registration(dest, p), scheme, jurisdiction))
        return out

    def _registration(self, dest: str, platform: dict[str, str]) -> str:
        i = self.platforms.index(platform)
        if dest == "GB":
            return f"GB{100000000 + i * 7919:09d}"
        if dest == "AU":
            return f"{500000000000 + i * 104729:012d}"
        if dest == "CN":
            return f"31{i:02d}96{i:04d}"
        return self._iosss[i]

    def _split_group(self, k: int) -> list[GeneratedParcel]:
        dest = self.rng.choice(["DE", "FR", "IT", "GB", "NL"])
        currency, _, _ = self.destinations[dest]
        limit = Decimal(_SPLIT_TARGET[currency])
        fixed = {
            "destination": dest,
            "origin": "CN",
            "platform": self.rng.choice(self.platforms),
            "seller": self.rng.choice(SELLERS),
            "consignee": self._party(dest),
        }
        out = []
        for _ in range(k):
            value = (limit * Decimal(str(round(self.rng.uniform(0.75, 0.97), 2)))).quantize(CENT)
            out.append(self._parcel(["split_shipment"], fixed=fixed, target=value))
        return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    return obj


def history_day(day: date, offset: int) -> date:
    return day - timedelta(days=offset)
