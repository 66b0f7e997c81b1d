"""The web store on SQLite and PostgreSQL: users, sessions, routing, queues, profile versions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from clearway.clearance.handlers import ActionRequest
from clearway.kernel.clock import FixedClock
from clearway.kernel.errors import Conflict, InvalidInput, NotFound
from clearway.storage.agency_routing import RoutingError, parse_routing
from clearway.storage.profile_versions import ProfileVersion
from clearway.storage.web_repository import QueueFilter, WebStore
from clearway.wiring.services import Services
from tests.web.conftest import HONEY, PASSWORD, PEPPER, SHIRT, arrive, file_parcel


def test_passwords_are_hashed_and_checked(web: WebStore, services: Services) -> None:
    web.create_user("ana.officer", PASSWORD, "officer")
    from sqlalchemy import select

    from clearway.storage.tables_web import web_users

    with services.engine.connect() as conn:
        stored = conn.execute(select(web_users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    who = web.verify_password("ana.officer", PASSWORD)
    assert who is not None and who.role == "officer" and who.actor == "officer:ana.officer"
    assert web.verify_password("ana.officer", PASSWORD + "x") is None
    assert web.verify_password("nobody", PASSWORD) is None
    with pytest.raises(Conflict):
        web.create_user("ana.officer", PASSWORD, "officer")


def test_bad_users_are_refused_with_every_problem(web: WebStore) -> None:
    with pytest.raises(InvalidInput) as exc:
        web.create_user("a b", "short", "pilot")
    assert {p.path for p in exc.value.problems} == {"/username", "/password", "/role"}
    with pytest.raises(InvalidInput) as exc:
        web.create_user("agent", PASSWORD, "agency", "no_such_agency")
    assert [p.path for p in exc.value.problems] == ["/agency"]


def test_sessions_expire(web: WebStore, clock: FixedClock) -> None:
    web.create_user("eve", PASSWORD, "analyst")
    who = web.verify_password("eve", PASSWORD)
    assert who is not None
    token = web.open_session(who)
    assert web.session(token) == who
    clock.advance(timedelta(hours=11))
    assert web.session(token) is None
    assert web.session("forged") is None


def test_routing_sends_parcels_to_agencies_by_chapter_and_keyword(
    services: Services, web: WebStore
) -> None:
    honey = file_parcel(services, 1, [HONEY])
    shirt = file_parcel(services, 2, [SHIRT])
    keyword = file_parcel(services, 3, [("Raw cheese, 200 g", "392690")])  # wrong code, keyword
    assert web.sweep() == 3
    assert web.sweep() == 0  # incremental: nothing changed, nothing read again
    assert [a for a, _, _ in web.routes_of(honey)] == ["food_safety"]
    assert web.routes_of(shirt) == []
    assert web.routes_of(keyword)[0][2] == "keyword 'cheese'"
    web.require_routed(honey, "food_safety")
    with pytest.raises(NotFound):
        web.require_routed(shirt, "food_safety")
    # The sweep is incremental: nothing changed, nothing re-read beyond the safety margin
    page = web.agency_queue("food_safety", QueueFilter())
    assert {r.id for r in page.rows} == {honey, keyword}


def test_routing_rules_are_read_at_the_legal_date() -> None:
    routing = parse_routing(
        {
            "agencies": {"toys": {"name": "Toy safety"}},
            "rules": [
                {
                    "id": "T",
                    "agency": "toys",
                    "reason": "toys",
                    "from": "2025-01-01",
                    "until": "2026-01-01",
                    "chapters": ["95"],
                    "reference": "https://example.org",
                }
            ],
        }
    )
    items = [("Plastic toy", "950300")]
    assert routing.route(date(2025, 6, 1), items) == {"toys": ("T", "HS 95")}
    assert routing.route(date(2026, 1, 1), items) == {}
    with pytest.raises(RoutingError, match="unknown agency"):
        parse_routing(
            {
                "agencies": {},
                "rules": [
                    {
                        "id": "X",
                        "agency": "a",
                        "reason": "r",
                        "from": "2020-01-01",
                        "reference": "r",
                    }
                ],
            }
        )


def test_queue_filters_sorts_and_counts(
    services: Services, web: WebStore, clock: FixedClock
) -> None:
    first = file_parcel(services, 1, [PEPPER], office="DE-HUB-1")
    second = file_parcel(services, 2, [PEPPER], office="DE-HUB-2")
    green = file_parcel(services, 3, [SHIRT])
    assert arrive(services, first, "DE-HUB-1") == "hold"
    clock.advance(timedelta(hours=5))
    assert arrive(services, second, "DE-HUB-2") == "hold"
    assert arrive(services, green) == "release"
    services.clearance.act(
        second, ActionRequest("hold", "agency:medicines", reason="lab test", authority="medicines")
    )

    page = web.queue(QueueFilter())
    assert [r.id for r in page.rows] == [first, second]  # oldest first
    assert page.total == 2
    assert page.rows[0].age_hours == 5.0 and page.rows[0].lane == "red"
    assert dict(page.facets["lane"]) == {"red": 2}
    assert dict(page.facets["office"]) == {"DE-HUB-1": 1, "DE-HUB-2": 1}
    reasons = dict(page.facets["reason"])
    assert reasons["physical or non-intrusive inspection (red lane)"] == 2
    assert "lab test" not in reasons  # an agency's own words are not customs' filter options

    assert [r.id for r in web.queue(QueueFilter(sort="newest")).rows] == [second, first]
    assert [r.id for r in web.queue(QueueFilter(office="DE-HUB-2")).rows] == [second]
    assert [r.id for r in web.queue(QueueFilter(authority="medicines")).rows] == [second]
    assert [r.id for r in web.queue(QueueFilter(reason="lab test")).rows] == [second]
    assert [r.id for r in web.queue(QueueFilter(min_age_hours=3)).rows] == [first]
    assert web.queue(QueueFilter(lane="green")).rows == []
    held = web.queue(QueueFilter(office="DE-HUB-2")).rows[0]
    assert ("medicines", "lab test") in held.holds


def test_queue_query_searches_an_index_instead_of_scanning(
    services: Services, web: WebStore
) -> None:
    """The plan of every queue variant reads an index on consignments, never a full scan (on
    PostgreSQL with sequential scans disabled, so that a tiny table still shows which index
    serves; bench/web_queue.py shows the plans the planner picks by itself on 100,000 rows)."""
    for f in (
        QueueFilter(),
        QueueFilter(lane="red"),
        QueueFilter(office="DE-HUB-1"),
        QueueFilter(reason="lab test", sort="newest"),
    ):
        plan = " ".join(web.explain_queue(f, force_index=True))
        if services.engine.dialect.name == "sqlite":
            assert "SEARCH consignments USING" in plan and "SCAN consignments" not in plan
        else:
            assert "Index" in plan and "Seq Scan on consignments" not in plan, plan
            assert "ix_consignments_status" in plan, plan


def _propose(web: WebStore, **changes: Any) -> ProfileVersion:
    fields: dict[str, Any] = {
        "active": True,
        "weight": "25",
        "lane": "yellow",
        "referral": None,
        "reason": "Lithium batteries",
        "effective_from": date(2026, 1, 1),
        "effective_until": None,
        "note": "more weight after incidents",
        "edited_by": "analyst:eve",
    }
    return web.propose_profile_version("DG-LITHIUM", **{**fields, **changes})


def test_profile_versions_are_kept_and_read_at_their_date_once_approved(web: WebStore) -> None:
    v1 = _propose(web)
    assert v1.status == "proposed"
    assert web.effective_versions(date(2026, 6, 1)) == {}  # a proposal decides nothing
    with pytest.raises(InvalidInput) as pending:
        _propose(web, weight="30")
    assert [p.code for p in pending.value.problems] == ["proposal_pending"]
    with pytest.raises(InvalidInput) as own:
        web.review_profile_version(
            "DG-LITHIUM", 1, decision="approved", by="analyst:eve", note="fine"
        )
    assert [p.code for p in own.value.problems] == ["own_proposal"]
    approved = web.review_profile_version(
        "DG-LITHIUM", 1, decision="approved", by="analyst:tom", note="incidents confirmed"
    )
    assert (approved.status, approved.edited_by, approved.reviewed_by) == (
        "approved",
        "analyst:eve",
        "analyst:tom",
    )
    assert approved.reviewed_at is not None and approved.review_note == "incidents confirmed"
    with pytest.raises(InvalidInput) as again:
        web.review_profile_version("DG-LITHIUM", 1, decision="rejected", by="analyst:ann", note="x")
    assert [p.code for p in again.value.problems] == ["not_proposed"]
    v2 = _propose(web, active=False, weight="0", lane=None, effective_from=date(2027, 1, 1))
    assert (v1.version, v2.version) == (1, 2)
    web.review_profile_version("DG-LITHIUM", 2, decision="approved", by="analyst:tom", note="")
    assert [v.version for v in web.profile_versions("DG-LITHIUM")] == [2, 1]
    assert web.effective_versions(date(2025, 12, 31)) == {}
    assert web.effective_versions(date(2026, 6, 1))["DG-LITHIUM"].active is True
    assert web.effective_versions(date(2027, 6, 1))["DG-LITHIUM"].active is False
    with pytest.raises(InvalidInput) as exc:
        _propose(
            web,
            weight="lots",
            lane="purple",
            reason="",
            effective_until=date(2025, 1, 1),
            note="",
        )
    assert {p.path for p in exc.value.problems} == {
        "/weight",
        "/lane",
        "/reason",
        "/note",
        "/effective_until",
    }


def test_rejected_and_withdrawn_proposals_decide_nothing(web: WebStore) -> None:
    _propose(web)
    with pytest.raises(InvalidInput) as why:
        web.review_profile_version("DG-LITHIUM", 1, decision="rejected", by="analyst:tom", note="")
    assert [p.code for p in why.value.problems] == ["required"]
    web.review_profile_version(
        "DG-LITHIUM", 1, decision="rejected", by="analyst:tom", note="no incidents on record"
    )
    _propose(web, weight="40")
    with pytest.raises(InvalidInput) as other:
        web.review_profile_version("DG-LITHIUM", 2, decision="withdrawn", by="analyst:tom", note="")
    assert [p.code for p in other.value.problems] == ["not_author"]
    web.review_profile_version("DG-LITHIUM", 2, decision="withdrawn", by="analyst:eve", note="")
    assert [v.status for v in web.profile_versions("DG-LITHIUM")] == ["withdrawn", "rejected"]
    assert web.effective_versions(date(2026, 6, 1)) == {}
    with pytest.raises(NotFound):
        web.review_profile_version("DG-LITHIUM", 9, decision="approved", by="analyst:tom", note="")


def test_profile_hit_counts_and_hit_rates(services: Services, web: WebStore) -> None:
    a = file_parcel(services, 1, [PEPPER])
    b = file_parcel(services, 2, [PEPPER])
    file_parcel(services, 3, [SHIRT])
    for cid, found in ((a, True), (b, False)):
        arrive(services, cid)
        services.clearance.act(cid, ActionRequest("record_inspection", "officer:ana", found=found))
    web.sweep()
    decided, stats = web.profile_stats()
    assert decided == 3
    assert stats["WPN-BLADE-STUN"] == (2, 2, 1)


def test_two_analysts_at_the_same_moment_one_proposal_and_one_review_win(
    services: Services,
) -> None:
    """Two proposals, then two reviews, sent at the same moment from separate connections:
    exactly one of each is recorded; the other is told why (never a database error)."""

    def race(calls: list[Callable[[], object]]) -> tuple[list[object], list[InvalidInput]]:
        start = threading.Barrier(len(calls))
        won: list[object] = []
        lost: list[InvalidInput] = []

        def run(call: Callable[[], object]) -> None:
            start.wait()
            try:
                won.append(call())
            except InvalidInput as exc:
                lost.append(exc)

        threads = [threading.Thread(target=run, args=(c,)) for c in calls]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
        return won, lost

    stores = [WebStore(services.engine, services.clock) for _ in range(2)]
    won, lost = race(
        [lambda s=s, n=n: _propose(s, weight=str(30 + n)) for n, s in enumerate(stores)]  # type: ignore[misc]
    )
    assert len(won) == 1 and len(lost) == 1
    assert {p.code for p in lost[0].problems} == {"proposal_pending"}
    won, lost = race(
        [
            lambda s=s, d=d: s.review_profile_version(  # type: ignore[misc]
                "DG-LITHIUM", 1, decision=d, by=f"analyst:{d}", note="checked"
            )
            for s, d in zip(stores, ("approved", "rejected"), strict=True)
        ]
    )
    assert len(won) == 1 and len(lost) == 1
    assert {p.code for p in lost[0].problems} == {"not_proposed"}
    [v] = stores[0].profile_versions("DG-LITHIUM")
    assert v.status == won[0].status  # type: ignore[attr-defined]
