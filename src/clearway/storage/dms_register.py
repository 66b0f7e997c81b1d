"""The register of DMS declarations: MRN ⇄ consignment, and the declarant's LRN."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from clearway.clearance.dms import DeclarationEntry
from clearway.kernel.errors import Conflict
from clearway.storage.engine import writer
from clearway.storage.repository import aware
from clearway.storage.tables_dms import dms_declarations as dd


def _entry(r: Any) -> DeclarationEntry:
    return DeclarationEntry(
        r.mrn,
        r.consignment_id,
        r.operator_id,
        r.lrn,
        r.procedure_category,
        aware(r.issued_at) or r.issued_at,
    )


class SqlDeclarationRegister:
    """Implements `clearway.clearance.dms.DeclarationRegister`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def issue(self, entry: DeclarationEntry) -> DeclarationEntry:
        """Register an MRN; a consignment or LRN registered before keeps its first entry."""
        row = {
            "mrn": entry.mrn,
            "consignment_id": entry.consignment_id,
            "operator_id": entry.operator_id,
            "lrn": entry.lrn,
            "procedure_category": entry.procedure_category,
            "issued_at": entry.issued_at,
        }
        with writer(self.engine).begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(dialect.insert(dd).on_conflict_do_nothing(), [row])
        found = self.of_consignment(entry.consignment_id) or self.by_lrn(
            entry.operator_id, entry.lrn
        )
        if found is None:  # the row above is there unless another one holds its keys
            raise Conflict(f"the MRN {entry.mrn} could not be registered")
        return found

    def by_mrn(self, mrn: str) -> DeclarationEntry | None:
        return self._one(select(dd).where(dd.c.mrn == mrn.strip().upper()))

    def by_lrn(self, operator_id: str, lrn: str) -> DeclarationEntry | None:
        return self._one(select(dd).where(dd.c.operator_id == operator_id, dd.c.lrn == lrn))

    def of_consignment(self, consignment_id: str) -> DeclarationEntry | None:
        return self._one(select(dd).where(dd.c.consignment_id == consignment_id))

    def _one(self, query: Any) -> DeclarationEntry | None:
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _entry(row) if row is not None else None
