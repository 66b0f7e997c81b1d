"""Factories for realistic parcels as the risk step receives them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from clearway.domain.filing import FilingDocument, Item, Party
from clearway.domain.ports import RiskInput
from clearway.kernel.errors import Problem


def make_item(
    description: str = "cotton t-shirt",
    hs_code: str | None = "610910",
    value: str | None = "12.50",
    quantity: int = 1,
    mass: str | None = "0.20",
    origin: str | None = "CN",
) -> Item:
    return Item(
        description=description,
        hs_code=hs_code,
        value=Decimal(value) if value is not None else None,
        quantity=quantity,
        net_mass_kg=Decimal(mass) if mass is not None else None,
        origin_country=origin,
    )


def make_input(
    n: int = 1,
    *,
    items: list[Item] | None = None,
    data_set: str = "full",
    consignee: str = "Jane Doe",
    seller: str | None = "Shenzhen Happy Garments Co",
    consignor: str = "Happy Garments Warehouse",
    dispatch: str = "CN",
    office: str | None = "DE-FRA",
    legal_date: date = date(2025, 3, 1),
    findings: list[Problem] | None = None,
    **doc: Any,
) -> RiskInput:
    document = FilingDocument(
        filer_reference=f"ref-{n}",
        transport_document=f"LX{n:08d}5CN",
        destination_country="DE",
        items=items if items is not None else [make_item()],
        data_set=data_set,  # type: ignore[arg-type]
        dispatch_country=dispatch,
        consignee=Party(name=consignee, address="Hauptstr. 1", city="Berlin", country="DE"),
        consignor=Party(name=consignor, address="1 Bao'an Rd", country="CN"),
        seller=Party(name=seller) if seller else None,
        office=office,
        **doc,
    )
    return RiskInput(
        consignment_id=f"c-{n}",
        document=document,
        legal_date=legal_date,
        filer="acme-post",
        filer_role="post",
        findings=findings or [],
    )
