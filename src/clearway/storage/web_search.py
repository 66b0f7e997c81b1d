"""The officer's one search box: a parcel by transport document, order id, payment id, filer
reference (an H7 LRN, a CEB order number) or the start of the consignee's or seller's name.

Each kind of key is read through its own index (transport document unique, order and payment
ids, party keys) and the answers are merged, newest first; names match from their start, case
and spacing as the stored party keys have them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, or_, select

from clearway.storage import tables as t
from clearway.storage.web_repository import QueueRow, queue_row

LIMIT = 50


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search(engine: Engine, query: str, now: datetime, limit: int = LIMIT) -> list[QueueRow]:
    """Parcels whose keys match `query` (any status), newest first."""
    text = query.strip()
    if not text:
        return []
    c = t.consignments.c
    f = t.filings.c
    name = _like_prefix(" ".join(text.lower().split()))
    exact = text.upper().replace(" ", "")
    by_reference = select(f.consignment_id).where(f.filer_reference == text).limit(limit)
    q = (
        select(
            c.id,
            c.transport_document,
            c.status,
            c.lane,
            c.office,
            c.destination_country,
            c.score,
            c.random_sample,
            c.intrinsic_value,
            c.currency,
            c.arrived_at,
            c.created_at,
        )
        .where(
            or_(
                c.transport_document == exact,
                c.order_id == text,
                c.payment_id == text,
                c.consignee_key.like(name, escape="\\"),
                c.seller_key.like(name, escape="\\"),
                c.id.in_(by_reference),
                c.id == text,
            )
        )
        .order_by(c.created_at.desc(), c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [queue_row(r, now) for r in rows]
