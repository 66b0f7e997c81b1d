"""Factories for revenue tests: realistic parcels with only the fields a test cares about."""

from __future__ import annotations

from datetime import date
from typing import Any

from clearway.domain.assessment import Assessment
from clearway.domain.filing import FilingDocument, from_builtins


def item(value: str = "40.00", hs: str | None = "610910", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": "cotton t-shirt", "value": value, "origin_country": "CN"}
    if hs is not None:
        out["hs_code"] = hs
    out.update(extra)
    return out


def filing(destination: str = "DE", currency: str = "EUR", **extra: Any) -> FilingDocument:
    data: dict[str, Any] = {
        "filer_reference": "order-1",
        "transport_document": "LX123456785CN",
        "destination_country": destination,
        "currency": currency,
        "items": [item()],
    }
    data.update(extra)
    return from_builtins(data)


def kinds(a: Assessment, kind: str) -> str:
    return str(a.total_of(kind))


D = date
