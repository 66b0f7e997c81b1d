"""E-commerce statistics over a snapshot with DuckDB: volumes, values, revenue, registrations,
risk outcomes. Every function returns rows (dicts) with amounts as Decimal, sorted stably, so the
Dask path (`distributed.py`) can be checked against them row for row.

Amounts across destinations are in the snapshot's reporting currency (`reporting_*` columns);
`revenue()` gives exact amounts per assessment currency.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from clearway.kernel.errors import DomainError
from clearway.statistics.snapshot import Snapshot

CONSIGNMENT_DIMENSIONS: Final = (
    "destination_country",
    "dispatch_country",
    "mode",
    "platform",
    "filer",
    "irg_category",
    "collection_model",
    "lane",
    "value_band",
    "status",
    "registration_number",
)
ITEM_DIMENSIONS: Final = ("origin_country", "hs_chapter", "hs_heading")
DIMENSIONS: Final = CONSIGNMENT_DIMENSIONS + ITEM_DIMENSIONS
NONE_KEY: Final = "(none)"
Z95: Final = 1.959963984540054  # two-sided 95 % normal quantile


class UnknownDimension(DomainError):
    problem_type = "unknown-dimension"


@cache
def _bands_file() -> dict[str, list[str]]:
    text = resources.files("clearway.statistics").joinpath("data", "value_bands.yaml")
    data: dict[str, list[str]] = yaml.safe_load(text.read_text("utf-8"))
    return data


def value_band_currencies() -> list[str]:
    return sorted(_bands_file())


def value_band_edges(currency: str) -> list[Decimal]:
    edges = _bands_file().get(currency)
    if edges is None:
        raise DomainError(f"no value bands for reporting currency {currency} (value_bands.yaml)")
    return [Decimal(e) for e in edges]


def value_band_labels(currency: str) -> list[str]:
    """`≤ 22`, `22–45`, … `> 1000`, then `unknown` (no FX rate)."""
    edges = value_band_edges(currency)
    labels = [f"≤ {edges[0]}"]
    labels += [f"{a}–{b}" for a, b in itertools.pairwise(edges)]
    return [*labels, f"> {edges[-1]}", "unknown"]


def _band_sql(currency: str) -> str:
    edges = value_band_edges(currency)
    labels = value_band_labels(currency)
    whens = " ".join(
        f"WHEN reporting_value <= {e} THEN '{label}'"
        for e, label in zip(edges, labels, strict=False)
    )
    return f"CASE WHEN reporting_value IS NULL THEN 'unknown' {whens} ELSE '{labels[-2]}' END"


def _key(dimension: str, currency: str) -> str:
    if dimension == "value_band":
        return _band_sql(currency)
    return f"COALESCE(CAST({dimension} AS VARCHAR), '{NONE_KEY}')"


def _zero(v: Any) -> Decimal:
    return Decimal(0) if v is None else Decimal(v)


def breakdown(snap: Snapshot, dimension: str) -> list[dict[str, Any]]:
    """Volumes, values and revenue (reporting currency) by one dimension."""
    if dimension in CONSIGNMENT_DIMENSIONS:
        rows = snap.rows(
            f"""SELECT {_key(dimension, snap.reporting_currency)} AS key,
                   count(*) AS parcels, sum(item_count) AS items,
                   sum(reporting_value) AS value, sum(reporting_duty) AS duty,
                   sum(reporting_tax) AS tax, sum(reporting_fees) AS fees,
                   sum(reporting_total) AS revenue
            FROM consignments GROUP BY 1"""
        )
    elif dimension in ITEM_DIMENSIONS:
        rows = snap.rows(
            f"""SELECT {_key(dimension, snap.reporting_currency)} AS key,
                   count(DISTINCT consignment_id) AS parcels, count(*) AS items,
                   sum(reporting_value) AS value, sum(reporting_duty) AS duty,
                   sum(reporting_tax) AS tax, sum(reporting_fees) AS fees,
                   sum(reporting_duty) + sum(reporting_tax) + sum(reporting_fees) AS revenue
            FROM items GROUP BY 1"""
        )
    else:
        raise UnknownDimension(
            f"unknown dimension {dimension!r}; dimensions: {', '.join(DIMENSIONS)}"
        )
    return sort_breakdown([normalise_breakdown(r) for r in rows])


AMOUNT_KEYS: Final = ("value", "duty", "tax", "fees", "revenue")


def normalise_breakdown(row: dict[str, Any]) -> dict[str, Any]:
    out = {"key": str(row["key"]), "parcels": int(row["parcels"]), "items": int(row["items"] or 0)}
    for k in AMOUNT_KEYS:
        out[k] = _zero(row[k])
    return out


def sort_breakdown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r["parcels"], r["key"]))


REVENUE_KEYS: Final = ("duty", "vat", "consumption_tax", "excise", "fees", "total", "due_at_border")


def revenue(snap: Snapshot) -> list[dict[str, Any]]:
    """Exact revenue per assessment currency and collection model, by tax."""
    rows = snap.rows(
        """SELECT assessed_currency AS currency, collection_model, count(*) AS parcels,
               count(*) FILTER (WHERE assessed_total > 0) AS parcels_owing,
               sum(duty) AS duty, sum(vat) AS vat, sum(consumption_tax) AS consumption_tax,
               sum(excise) AS excise, sum(fees) AS fees, sum(assessed_total) AS total,
               sum(due_at_border) AS due_at_border
        FROM consignments WHERE assessed_currency IS NOT NULL GROUP BY 1, 2"""
    )
    return sort_revenue([normalise_revenue(r) for r in rows])


def normalise_revenue(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "currency": str(row["currency"]),
        "collection_model": str(row["collection_model"] or NONE_KEY),
        "parcels": int(row["parcels"]),
        "parcels_owing": int(row["parcels_owing"]),
    }
    for k in REVENUE_KEYS:
        out[k] = _zero(row[k])
    return out


def sort_revenue(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["currency"], r["collection_model"]))


def overview(snap: Snapshot) -> dict[str, Any]:
    row = snap.rows(
        """SELECT count(*) AS parcels, coalesce(sum(item_count), 0) AS items,
               min(legal_date) AS first_day, max(legal_date) AS last_day,
               sum(reporting_value) AS value, sum(reporting_total) AS revenue,
               count(*) FILTER (WHERE arrived_at IS NOT NULL) AS arrived,
               count(*) FILTER (WHERE status = 'released') AS released,
               count(*) FILTER (WHERE inspected) AS inspected,
               count(*) FILTER (WHERE random_sample) AS random_sample,
               count(DISTINCT registration_number) AS registration_numbers
        FROM consignments"""
    )[0]
    return {
        "period": snap.period.label(),
        "reporting_currency": snap.reporting_currency,
        "parcels": int(row["parcels"]),
        "items": int(row["items"]),
        "first_day": row["first_day"].isoformat() if row["first_day"] else None,
        "last_day": row["last_day"].isoformat() if row["last_day"] else None,
        "value": _zero(row["value"]),
        "revenue": _zero(row["revenue"]),
        "arrived": int(row["arrived"]),
        "released": int(row["released"]),
        "inspected": int(row["inspected"]),
        "random_sample": int(row["random_sample"]),
        "registration_numbers": int(row["registration_numbers"]),
    }


def registrations(snap: Snapshot, limit: int = 100) -> list[dict[str, Any]]:
    """IOSS-style surveillance per registration number: what was declared under it, what was
    honoured, how much tax was recorded against it and how widely it is used."""
    rows = snap.rows(
        """SELECT registration_number, count(*) AS parcels,
               count(*) FILTER (WHERE declared_collection_model = 'vendor') AS declared_vendor,
               count(*) FILTER (WHERE collection_model = 'vendor') AS vendor_collected,
               count(*) FILTER (WHERE declared_collection_model = 'vendor'
                                AND collection_model <> 'vendor') AS refused,
               count(*) FILTER (WHERE list_contains(flags, 'registration_number_invalid'))
                   AS invalid,
               coalesce(sum(reporting_value), 0) AS value,
               coalesce(sum(reporting_tax) FILTER (WHERE collection_model = 'vendor'), 0)
                   AS tax_recorded,
               count(DISTINCT platform) AS platforms, count(DISTINCT seller) AS sellers,
               count(DISTINCT destination_country) AS destinations,
               min(legal_date) AS first_day, max(legal_date) AS last_day
        FROM consignments WHERE registration_number IS NOT NULL
        GROUP BY 1 ORDER BY parcels DESC, registration_number LIMIT ?""",
        [limit],
    )
    for r in rows:
        r["first_day"] = r["first_day"].isoformat()
        r["last_day"] = r["last_day"].isoformat()
        r["value"] = Decimal(r["value"])
        r["tax_recorded"] = Decimal(r["tax_recorded"])
    return rows


# ---------------------------------------------------------------- risk outcomes
def wilson(found: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = found / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def hit_rate_counts(snap: Snapshot) -> list[dict[str, Any]]:
    """Inspected and found counts per selection group: the random control sample (the baseline),
    each lane selected by targeting, each rule code, each model score decile."""
    rows = snap.rows(
        """SELECT 'baseline' AS grp, 'random sample' AS key,
                  count(*) AS inspected, count(*) FILTER (WHERE found) AS found
           FROM consignments WHERE inspected AND random_sample
           UNION ALL
           SELECT 'lane', lane, count(*), count(*) FILTER (WHERE found)
           FROM consignments WHERE inspected AND NOT random_sample AND lane IS NOT NULL
           GROUP BY lane
           UNION ALL
           SELECT 'rule', code, count(*), count(*) FILTER (WHERE found)
           FROM (SELECT unnest(rule_codes) AS code, found FROM consignments WHERE inspected)
           GROUP BY code
           UNION ALL
           SELECT 'score', printf('%.1f–%.1f', floor(score * 10) / 10, floor(score * 10) / 10
                                  + 0.1), count(*), count(*) FILTER (WHERE found)
           FROM consignments WHERE inspected AND score IS NOT NULL
           GROUP BY 2"""
    )
    return sort_hits(
        [
            {
                "group": r["grp"],
                "key": str(r["key"]),
                "inspected": int(r["inspected"]),
                "found": int(r["found"]),
            }
            for r in rows
            if r["inspected"]
        ]
    )


def sort_hits(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {"baseline": 0, "lane": 1, "rule": 2, "score": 3}
    return sorted(rows, key=lambda r: (order[r["group"]], r["key"]))


def hit_rates(counts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts → hit rate with its Wilson 95 % interval and the lift over the random baseline."""
    base = next((r for r in counts if r["group"] == "baseline"), None)
    base_rate = base["found"] / base["inspected"] if base and base["inspected"] else None
    out = []
    for r in counts:
        rate = r["found"] / r["inspected"]
        low, high = wilson(r["found"], r["inspected"])
        out.append(
            {
                **r,
                "hit_rate": rate,
                "ci_low": low,
                "ci_high": high,
                "lift": rate / base_rate if base_rate else None,
            }
        )
    return out
