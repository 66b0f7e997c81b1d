"""Declarations lodged in the EU DMS formats, by MRN (same `metadata` as `storage.tables`;
migration `0005_dms_declarations` creates the table)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, String, Table, UniqueConstraint

from clearway.storage.tables import metadata

dms_declarations = Table(
    "dms_declarations",
    metadata,
    Column("mrn", String(18), primary_key=True),
    Column("consignment_id", String(40), ForeignKey("consignments.id"), nullable=False),
    Column("operator_id", String(40), ForeignKey("operators.id"), nullable=False),
    Column("lrn", String(100), nullable=False),
    Column("procedure_category", String(4), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("operator_id", "lrn", name="uq_dms_declarations_lrn"),
)
Index("ix_dms_declarations_consignment", dms_declarations.c.consignment_id, unique=True)
