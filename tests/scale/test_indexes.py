"""Every index on the hot tables is there for a query the product runs (docs/scale.md lists
them). On PostgreSQL, with sequential scans disabled, each query's plan must use its index —
a query that no index can serve would still show a sequential scan. On the partitioned event
log the plan names each partition's index; it counts as the parent index it was made from."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Connection, text

from clearway.storage.engine import make_engine
from clearway.storage.migrate import upgrade

pytestmark = pytest.mark.postgres

# (what runs it, the query, the index that serves it — or indexes, where the planner may pick
# among several that lead with the same columns)
QUERIES = [
    (
        "pipeline: stored filings by filer reference (idempotency)",
        "SELECT consignment_id FROM filings WHERE operator_id = 'op' AND filer_reference IN "
        "('a', 'b')",
        "uq_filings_reference",
    ),
    (
        "pipeline: consignment by transport document",
        "SELECT id FROM consignments WHERE transport_document IN ('LX1', 'LX2')",
        "uq_consignments_transport_document",
    ),
    (
        "pipeline: consignment by order id (record legs)",
        "SELECT id FROM consignments WHERE order_id IN ('O-1')",
        "ix_consignments_order",
    ),
    (
        "pipeline: consignment by payment id (record legs)",
        "SELECT id FROM consignments WHERE payment_id IN ('P-1')",
        "ix_consignments_payment",
    ),
    (
        "pipeline and GET /v1/consignments/{id}: a consignment's filings (legs, who may see it)",
        "SELECT body FROM filings WHERE consignment_id IN ('c1')",
        "ix_filings_consignment",
    ),
    (
        "GET /v1/consignments/{id}: the event timeline in order",
        "SELECT * FROM events WHERE consignment_id = 'c1' ORDER BY id",
        "ix_events_consignment",
    ),
    (
        "GET /v1/notices: a filer's feed after a cursor",
        "SELECT id, body FROM notices WHERE operator_id = 'op' AND id > 10 ORDER BY id LIMIT 100",
        "ix_notices_operator_cursor",
    ),
    (
        "arrivals, officer actions: open holds of a parcel",
        "SELECT * FROM holds WHERE consignment_id IN ('c1') AND lifted_at IS NULL",
        "ix_holds_consignment ix_holds_open_authority ix_holds_open_reason",
    ),
    (
        "quotas and split-shipment checks: a consignee's parcels of a day",
        "SELECT id FROM consignments WHERE consignee_key = 'k' AND legal_date = '2026-11-02'",
        "ix_consignments_consignee_day",
    ),
    (
        "time release and KPIs: events of a kind in a period",
        "SELECT consignment_id, at FROM events WHERE kind = 'decide' "
        "AND at >= '2026-11-01' AND at < '2026-12-01'",
        "ix_events_kind_at",
    ),
    (
        "relay: the owners with unpublished rows (loose index scan step)",
        "SELECT owner_id FROM outbox WHERE owner_id > 'op' ORDER BY owner_id LIMIT 1",
        "ix_outbox_owner_id",
    ),
    (
        "relay: one owner's oldest unpublished rows",
        "SELECT id FROM outbox WHERE owner_id = 'op' ORDER BY id LIMIT 50",
        "ix_outbox_owner_id",
    ),
    (
        "relay: delete what JetStream acknowledged",
        "DELETE FROM outbox WHERE id IN (1, 2, 3)",
        "pk_outbox",
    ),
]


_INDEX = re.compile(r"(?:Index Scan|Index Only Scan) using (\S+)|Bitmap Index Scan on (\S+)")


def indexes_used(conn: Connection, plan: str) -> set[str]:
    """The indexes a plan uses, a partition's index named by the parent index it belongs to."""
    names = {a or b for a, b in _INDEX.findall(plan)}
    return {
        str(
            conn.execute(
                text("SELECT pg_partition_root(CAST(:n AS regclass))::regclass::text"), {"n": n}
            ).scalar()
            or n
        )
        for n in names
    }


def test_each_query_is_served_by_its_index(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            for what, query, index in QUERIES:
                plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {query}")))
                assert "Seq Scan" not in plan, f"{what}: no index serves it\n{plan}"
                used = indexes_used(conn, plan)
                assert used & set(index.split()), f"{what}: {index} unused\n{plan}"
    finally:
        engine.dispose()
