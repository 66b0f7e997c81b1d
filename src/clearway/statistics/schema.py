"""The Parquet snapshot's schema: the contract between the export and the statistics.

A snapshot is a folder with one sub-folder per table, partitioned by the consignment's legal date:
`<table>/day=YYYY-MM-DD/part-NNNNN.parquet`, and a `manifest.json`. Every table carries
`legal_date`, so a period is a set of day folders. Amounts are decimal128 with 4 decimals (exact
for every currency's minor unit); durations and scores are the only floating-point columns.
See docs/statistics.md for the meaning of each column.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

SCHEMA_VERSION: Final = 1
MONEY: Final = pa.decimal128(18, 4)
MONEY_SCALE: Final = 4
MASS: Final = pa.decimal128(18, 6)
TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
_S = pa.string()

# Charge columns, in the order of an assessment's charge kinds (tax = vat + consumption + excise)
CHARGES: Final = ("duty", "vat", "consumption_tax", "excise", "fees")

CONSIGNMENTS: Final = pa.schema(
    [
        ("consignment_id", _S),
        ("transport_document", _S),
        ("legal_date", pa.date32()),
        ("filed_at", TIMESTAMP),
        ("status", _S),
        ("payment_status", _S),
        ("data_set", _S),
        ("mode", _S),
        ("destination_country", _S),
        ("dispatch_country", _S),
        ("office", _S),
        ("filer", _S),
        ("platform", _S),
        ("seller", _S),
        ("category", _S),
        ("currency", _S),
        ("intrinsic_value", MONEY),
        ("transport_cost", MONEY),
        ("insurance_cost", MONEY),
        ("item_count", pa.int32()),
        ("declared_collection_model", _S),
        ("registration_number", _S),
        ("collection_model", _S),
        ("payable_by", _S),
        ("jurisdiction", _S),
        ("assessed_currency", _S),
        ("customs_value", MONEY),
        *((c, MONEY) for c in CHARGES),
        ("assessed_total", MONEY),
        ("due_at_border", MONEY),
        ("irg_category", pa.int8()),
        ("reporting_currency", _S),
        ("reporting_value", MONEY),
        ("reporting_duty", MONEY),
        ("reporting_tax", MONEY),
        ("reporting_fees", MONEY),
        ("reporting_total", MONEY),
        ("lane", _S),
        ("referral", _S),
        ("score", pa.float64()),
        ("model_version", _S),
        ("random_sample", pa.bool_()),
        ("rule_codes", pa.list_(_S)),
        ("flags", pa.list_(_S)),
        ("inspected", pa.bool_()),
        ("found", pa.bool_()),
        ("arrived_at", TIMESTAMP),
        ("closed_at", TIMESTAMP),
    ]
)

ITEMS: Final = pa.schema(
    [
        ("consignment_id", _S),
        ("item_index", pa.int32()),
        ("legal_date", pa.date32()),
        ("destination_country", _S),
        ("dispatch_country", _S),
        ("mode", _S),
        ("platform", _S),
        ("collection_model", _S),
        ("description", _S),
        ("hs_code", _S),
        ("hs_chapter", _S),
        ("hs_heading", _S),
        ("hs_subheading", _S),
        ("quantity", pa.int32()),
        ("currency", _S),
        ("value", MONEY),
        ("origin_country", _S),
        ("net_mass_kg", MASS),
        ("assessed_currency", _S),
        *((c, MONEY) for c in CHARGES),
        ("reporting_currency", _S),
        ("reporting_value", MONEY),
        ("reporting_duty", MONEY),
        ("reporting_tax", MONEY),
        ("reporting_fees", MONEY),
    ]
)

EVENTS: Final = pa.schema(
    [
        ("event_id", pa.int64()),
        ("consignment_id", _S),
        ("legal_date", pa.date32()),
        ("kind", _S),
        ("at", TIMESTAMP),
        ("actor", _S),
        ("actor_role", _S),
        ("from_status", _S),
        ("to_status", _S),
        ("authority", _S),
        ("office", _S),
    ]
)

HOLDS: Final = pa.schema(
    [
        ("hold_id", _S),
        ("consignment_id", _S),
        ("legal_date", pa.date32()),
        ("authority", _S),
        ("reason", _S),
        ("placed_by", _S),
        ("placed_at", TIMESTAMP),
        ("lifted_by", _S),
        ("lifted_at", TIMESTAMP),
    ]
)

DOCUMENTS: Final = pa.schema(
    [
        ("consignment_id", _S),
        ("legal_date", pa.date32()),
        ("filer", _S),
        ("document", _S),  # the canonical filing document v1 as JSON
    ]
)

TABLES: Final[dict[str, pa.Schema]] = {
    "consignments": CONSIGNMENTS,
    "items": ITEMS,
    "events": EVENTS,
    "holds": HOLDS,
    "documents": DOCUMENTS,
}
MANIFEST: Final = "manifest.json"


def partition_dir(table: str, day: str) -> str:
    """The folder of one day of one table, relative to the snapshot root."""
    return f"{table}/day={day}"
