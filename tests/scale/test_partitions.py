"""The event log partitioned by month on real PostgreSQL: rows land in their month's partition,
the append-only guard holds on every partition, the daily command is idempotent, an existing
log is moved into partitions by the migration, and the hash-chained record still verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from clearway.clearance.pipeline import Submission
from clearway.clearance.ports import Filer
from clearway.cli.main import app as cli
from clearway.domain.filing import from_builtins
from clearway.kernel.clock import FixedClock
from clearway.kernel.codes import make_s10
from clearway.storage import audit
from clearway.storage.migrate import alembic_config
from clearway.storage.partitions import (
    DEFAULT,
    ensure_months,
    months_ahead,
    partition_name,
    partitions,
)
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings
from tests.conftest import make_filing

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_clock() -> FixedClock:
    return FixedClock(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))


@pytest.fixture
def pg(pg_url: str, pg_clock: FixedClock) -> Iterator[Services]:
    svc = build(Settings(database_url=pg_url, sample_rate=0.0), clock=pg_clock)
    yield svc
    svc.close()


def _file(services: Services, clock: FixedClock, when: datetime, n: int) -> str:
    """One parcel filed (assessed, decided) at `when`; its consignment id."""
    clock.set(when)
    filer = Filer(services.operators.ensure("Shop", "platform"), "Shop", "platform")
    doc = make_filing(
        filer_reference=f"P-{n}",
        transport_document=make_s10("LX", 50_000_000 + n, "CN"),
        legal_date=when.date().isoformat(),
        order={"id": f"O-{n}", "total": "27.40"},
        payment={"id": f"P-{n}", "amount": "27.40", "currency": "EUR", "payer_name": "Anna Müller"},
    )
    [result] = services.pipeline.process(filer, [Submission(from_builtins(doc))])
    assert result.consignment_id is not None, result.problems
    return result.consignment_id


def _where(engine: Engine) -> dict[str, set[str]]:
    """Per consignment: the partitions its events are stored in."""
    out: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for cid, part in conn.execute(
            text("SELECT consignment_id, tableoid::regclass::text FROM events")
        ):
            out.setdefault(cid, set()).add(part)
    return out


def _relkind(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'events'")).scalar()
        )


def test_events_land_in_their_months_partition_and_the_record_verifies(
    pg: Services, pg_clock: FixedClock
) -> None:
    engine = pg.engine
    assert _relkind(engine) == "p"
    with engine.begin() as conn:
        made = ensure_months(conn, [date(2026, 10, 1), date(2026, 11, 1)])
    assert {partition_name(date(2026, 10, 1)), partition_name(date(2026, 11, 1))} <= set(
        made.created + made.existing
    )
    october = _file(pg, pg_clock, datetime(2026, 10, 20, 9, 0, tzinfo=UTC), 1)
    november = _file(pg, pg_clock, datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), 2)
    # half past midnight on 1 December in Central Europe is still November in UTC
    cet = timezone(timedelta(hours=1))
    december_cet = _file(pg, pg_clock, datetime(2026, 12, 1, 0, 30, tzinfo=cet), 3)
    older = _file(pg, pg_clock, datetime(2026, 9, 15, 12, 0, tzinfo=UTC), 4)

    where = _where(engine)
    assert where[october] == {"events_2026_10"}
    assert where[november] == {"events_2026_11"}
    assert where[december_cet] == {"events_2026_11"}
    assert where[older] == {DEFAULT}  # no September partition: the default one keeps it

    report = audit.verify(engine)
    assert report.ok, report.breaks
    assert report.consignments == 4


@pytest.mark.parametrize(
    "table", ["events", "events_2026_10", DEFAULT], ids=["parent", "month", "default"]
)
def test_update_delete_and_truncate_are_refused_on_every_partition(
    pg: Services, pg_clock: FixedClock, table: str
) -> None:
    with pg.engine.begin() as conn:
        ensure_months(conn, [date(2026, 10, 1)])
    _file(pg, pg_clock, datetime(2026, 10, 20, 9, 0, tzinfo=UTC), 1)
    _file(pg, pg_clock, datetime(2026, 9, 20, 9, 0, tzinfo=UTC), 2)
    for sql in (
        f"UPDATE {table} SET actor = 'x'",
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
    ):
        with pytest.raises(DBAPIError, match="append-only"), pg.engine.begin() as conn:
            conn.execute(text(sql))
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar() > 0


def test_the_daily_command_is_idempotent_and_holds_a_month_already_in_default(
    pg: Services, pg_clock: FixedClock
) -> None:
    url = pg.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "partitions", "--ahead", "2", "--database", url])
    assert first.exit_code == 0, first.output
    ahead = [partition_name(m) for m in months_ahead(datetime.now(UTC).date(), 2)]
    # the upgrade made this month's and next month's; the command made the one after
    assert f"created {ahead[2]}" in first.output
    assert f"exists  {ahead[0]}" in first.output and f"exists  {ahead[1]}" in first.output
    with pg.engine.connect() as conn:
        before = partitions(conn)
    second = runner.invoke(cli, ["db", "partitions", "--ahead", "2", "--database", url])
    assert second.exit_code == 0, second.output
    assert "created" not in second.output
    assert all(f"exists  {name}" in second.output for name in ahead)
    with pg.engine.connect() as conn:
        assert partitions(conn) == before
    assert set(ahead) | {DEFAULT} <= set(before)

    # September has no partition: its events go to the default one, and the month stays there
    _file(pg, pg_clock, datetime(2026, 9, 20, 9, 0, tzinfo=UTC), 1)
    with pg.engine.begin() as conn:
        held = ensure_months(conn, [date(2026, 9, 1)])
    assert held.created == [] and held.held and held.held[0][0] == "events_2026_09"
    assert audit.verify(pg.engine).ok


def test_the_migration_moves_an_existing_log_into_partitions(
    pg: Services, pg_clock: FixedClock
) -> None:
    engine = pg.engine
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007_events_partitioned-1")
    assert _relkind(engine) == "r"
    filed = [_file(pg, pg_clock, datetime(2026, m, 10, 9, 0, tzinfo=UTC), m) for m in (8, 9, 10)]
    with engine.connect() as conn:
        ids = sorted(r[0] for r in conn.execute(text("SELECT id FROM events")))
    assert audit.verify(engine).ok

    from clearway.storage.migrate import upgrade

    upgrade(engine)
    assert _relkind(engine) == "p"
    where = _where(engine)
    assert [where[c] for c in filed] == [{"events_2026_08"}, {"events_2026_09"}, {"events_2026_10"}]
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(text("SELECT id FROM events"))) == ids
    report = audit.verify(engine)
    assert report.ok and report.consignments == 3, report.breaks
    # the id sequence carries on past the moved rows
    later = _file(pg, pg_clock, datetime(2026, 10, 11, 9, 0, tzinfo=UTC), 11)
    with engine.connect() as conn:
        new_ids = [
            r[0]
            for r in conn.execute(
                text("SELECT id FROM events WHERE consignment_id = :c"), {"c": later}
            )
        ]
    assert min(new_ids) > max(ids)
    assert audit.verify(engine).ok
