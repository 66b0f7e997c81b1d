from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearway.domain.consignment import Consignment
from clearway.domain.filing import from_builtins
from clearway.domain.lifecycle import (
    ACTIONS,
    AFTER_RELEASE,
    FINAL_STATUSES,
    STATUSES,
    TRANSITIONS,
    IllegalTransition,
    next_status,
)
from tests.conftest import make_filing

AT = datetime(2026, 11, 2, tzinfo=UTC)


def _consignment() -> Consignment:
    return Consignment("cns_1", "LX123456785CN", from_builtins(make_filing()), "op_1")


def test_the_happy_path_records_an_event_per_transition() -> None:
    c = _consignment()
    for action in ("assess", "decide", "arrive", "release"):
        c.apply(action, at=AT, actor="system")
    assert c.status == "released"
    assert [(e.kind, e.from_status, e.to_status) for e in c.events] == [
        ("assess", "filed", "assessed"),
        ("decide", "assessed", "decided"),
        ("arrive", "decided", "arrived"),
        ("release", "arrived", "released"),
    ]
    assert c.arrived_at == AT and c.closed_at == AT


def test_illegal_transitions_are_refused_and_say_what_is_allowed() -> None:
    c = _consignment()
    with pytest.raises(IllegalTransition, match=r"allowed now: .*assess"):
        c.apply("release", at=AT, actor="officer:x")
    assert c.status == "filed" and c.events == []


def test_final_statuses_allow_nothing() -> None:
    for status in FINAL_STATUSES:
        for action in ACTIONS:
            with pytest.raises(IllegalTransition):
                next_status(status, action)


def test_every_status_in_the_table_is_a_known_status() -> None:
    for (src, _), dst in TRANSITIONS.items():
        assert src in STATUSES and dst in STATUSES


@given(st.lists(st.sampled_from(sorted(ACTIONS)), max_size=30))
def test_any_sequence_of_actions_stays_within_the_table(actions: list[str]) -> None:
    c = _consignment()
    for action in actions:
        before = c.status
        try:
            c.apply(action, at=AT, actor="t")
        except IllegalTransition:
            assert (before, action) not in TRANSITIONS
            assert c.status == before
        else:
            assert c.status == TRANSITIONS[(before, action)]
    assert len(c.events) == sum(1 for e in c.events if e.to_status in STATUSES)


def test_a_released_declaration_still_takes_its_follow_ups() -> None:
    assert next_status("released", "amend_after_release") == "released"
    assert next_status("released", "invalidate_after_release") == "invalidated"
    assert next_status("invalidated", "request_repayment") == "invalidated"
    assert all(src in FINAL_STATUSES for src, _ in AFTER_RELEASE)
    assert not set(a for _, a in AFTER_RELEASE) & ACTIONS  # no border action after the end
    with pytest.raises(IllegalTransition):
        next_status("decided", "invalidate_after_release")
