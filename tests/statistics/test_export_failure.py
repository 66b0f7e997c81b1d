"""A failed export leaves the previous snapshot as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from clearway.storage.engine import make_engine
from clearway.storage.export import export
from clearway.wiring.services import Services


def test_a_failed_export_keeps_the_previous_snapshot(
    sqlite_services: Services, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot"
    export(sqlite_services.engine, snapshot)
    before = sorted(p.relative_to(snapshot) for p in snapshot.rglob("*"))
    assert before
    broken = make_engine(f"sqlite:///{tmp_path / 'no-schema.sqlite'}")
    with pytest.raises(OperationalError):
        export(broken, snapshot)
    assert sorted(p.relative_to(snapshot) for p in snapshot.rglob("*")) == before
    assert not list(tmp_path.glob(".snapshot.*"))
