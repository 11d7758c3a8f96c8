"""The audit chain: one event per change and per denied attempt, and any tampering is found and named."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests import factories
from workflow import audit
from workflow.db import as_utc, db
from workflow.engine import fire
from workflow.errors import Forbidden, GuardFailed, NotAllowedNow, NotFound, StaleVersion
from workflow.models import AuditEvent


def _events(app_id: int | None = None) -> list[AuditEvent]:
    with db.transaction() as session:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if app_id is not None:
            query = query.where(AuditEvent.application_id == app_id)
        return list(session.scalars(query))


def _verify() -> audit.Verification:
    with db.transaction() as session:
        return audit.verify(session)


def test_every_change_and_every_denial_appends_one_event(cast):
    """Each state change adds one 'transition' event and each refused attempt one 'denied' event."""
    app_id = factories.new_application(cast, attach=False)
    attached = factories.attach_required(factories.flask_app(), cast, app_id)
    fire(app_id, "submit", cast.applicant)
    refusals = [
        (NotFound, lambda: fire(app_id, "pass_prereview", cast.other_district_reviewer)),
        (Forbidden, lambda: fire(app_id, "pass_prereview", cast.auditor)),
        (NotAllowedNow, lambda: fire(app_id, "submit", cast.applicant)),
        (GuardFailed, lambda: fire(app_id, "return_for_correction", cast.district_reviewer, {})),
        (StaleVersion, lambda: fire(app_id, "pass_prereview", cast.district_reviewer, expected_version=1)),
    ]
    for error, attempt in refusals:
        before = len(_events())
        with pytest.raises(error):
            attempt()
        assert len(_events()) == before + 1
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"})
    fire(app_id, "resubmit", cast.applicant)

    events = _events(app_id)
    assert Counter(e.outcome for e in events) == {
        "created": 1,
        "attached": len(attached),
        "transition": 3,
        "denied": len(refusals),
    }
    assert [e.trigger for e in events if e.outcome == "transition"] == ["submit", "return_for_correction", "resubmit"]
    denied = [e for e in events if e.outcome == "denied"]
    assert [e.payload["error"] for e in denied] == [
        "not_found",
        "forbidden",
        "not_allowed_in_state",
        "guard_failed",
        "stale_version",
    ]
    assert (denied[1].actor, denied[1].role, denied[1].from_state) == (
        cast.auditor.username,
        "auditor",
        "district_review",
    )
    assert _verify().ok


def test_transition_event_records_the_move(cast):
    """The event says who, as what role, from where to where, under which definition, with the payload."""
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "请补充盖章页"}, request_id="req-1")
    event = _events(app_id)[-1]
    assert (event.actor_id, event.actor, event.role) == (
        cast.district_reviewer.id,
        cast.district_reviewer.username,
        "district_reviewer",
    )
    assert (event.trigger, event.from_state, event.to_state) == ("return_for_correction", "district_review", "returned")
    assert (event.definition, event.request_id, event.payload) == (
        factories.definition_of(app_id).label,
        "req-1",
        {"comment": "请补充盖章页"},
    )


def test_attempt_on_unknown_application_is_recorded(cast):
    """Probing ids that do not exist leaves a trace too."""
    with pytest.raises(NotFound):
        fire(10**9, "submit", cast.applicant)
    (event,) = _events(10**9)
    assert (event.outcome, event.actor, event.from_state) == ("denied", cast.applicant.username, None)


def test_intact_chain_verifies(cast):
    """A chain built by normal use verifies, counting every event."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "archived")
    result = _verify()
    assert result.ok, str(result)
    assert result.checked == len(_events())
    assert "intact" in str(result)


def test_empty_chain_verifies():
    """No events at all is a valid (empty) chain."""
    assert _verify().ok


# --- tampering ---------------------------------------------------------------------------------------------------


def test_plain_update_and_delete_are_refused(cast):
    """The database itself refuses to change or remove an audit row (append-only triggers)."""
    factories.new_application(cast, attach=False)
    for statement in (update(AuditEvent).values(actor="someone_else"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(statement)
    assert len(_events()) == 1
    assert _verify().ok


def _bypass_append_only(session: Session) -> None:
    """What a DBA with enough rights could do; undone with the test's rolled-back transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))


@pytest.fixture
def chain(cast) -> list[int]:
    """Five events of every outcome kind (created, transition, denied, transition, transition), after the uploads."""
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant, request_id="req-submit")
    with pytest.raises(Forbidden):
        fire(app_id, "pass_prereview", cast.auditor)
    fire(app_id, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK)
    fire(app_id, "confirm_complete", cast.municipal_reviewer)
    seqs = [e.seq for e in _events() if e.outcome != "attached"]
    assert len(seqs) == 5
    assert _verify().ok
    return seqs


EDITS: dict[str, Callable[[AuditEvent], Any]] = {
    "occurred_at": lambda e: as_utc(e.occurred_at) + dt.timedelta(seconds=1),
    "actor_id": lambda e: (e.actor_id or 0) + 1000,
    "actor": lambda e: "someone_else",
    "role": lambda e: "admin",
    "application_id": lambda e: (e.application_id or 0) + 1000,
    "outcome": lambda e: "transition" if e.outcome != "transition" else "denied",
    "trigger": lambda e: "approve_award",
    "from_state": lambda e: "award_proposed",
    "to_state": lambda e: "paid",
    "payload": lambda e: {**e.payload, "amount": "9999999.00"},
    "definition": lambda e: f"{e.definition}-forged",
    "request_id": lambda e: "forged",
    "prev_hash": lambda e: "f" * 64,
    "hash": lambda e: "e" * 64,
}


@pytest.mark.parametrize("column", EDITS)
@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_editing_any_row_is_found_and_named(chain, column, position):
    """Changing any field of any event makes verify fail at exactly that event's seq."""
    seq = chain[position]
    with db.transaction() as session:
        _bypass_append_only(session)
        event = session.get(AuditEvent, seq)
        new_value = EDITS[column](event)
        assert new_value != getattr(event, column)
        session.execute(update(AuditEvent).where(AuditEvent.seq == seq).values({column: new_value}))

    result = _verify()
    assert not result.ok
    assert result.broken_seq == seq
    assert f"event {seq}" in str(result)


@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_deleting_a_row_is_found_and_named(chain, position):
    """Removing the first, a middle or the last event makes verify fail naming the missing seq."""
    seq = chain[position]
    with db.transaction() as session:
        _bypass_append_only(session)
        before = session.scalar(select(func.count()).select_from(AuditEvent))
        session.execute(delete(AuditEvent).where(AuditEvent.seq == seq))
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before - 1

    result = _verify()
    assert not result.ok
    assert result.broken_seq == seq
    assert f"event {seq} is missing" in str(result)


def test_rehashed_edit_still_breaks_the_next_link(chain):
    """A forger who also recomputes the edited row's hash breaks the link to the following row."""
    seq = chain[1]
    with db.transaction() as session:
        _bypass_append_only(session)
        event = session.get(AuditEvent, seq)
        event.to_state = "paid"
        event.hash = audit.compute_hash(event)
    result = _verify()
    assert not result.ok
    assert result.broken_seq == chain[2]
    assert "does not link" in result.reason


def test_chain_continues_after_a_refused_tamper(chain, cast):
    """A refused UPDATE leaves the chain intact and appending goes on."""
    with pytest.raises(DBAPIError), db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == chain[0]).values(actor="x"))
    before = len(_events())
    app_id = factories.new_application(cast, attach=False)
    fire(app_id, "withdraw", cast.applicant)
    result = _verify()
    assert result.ok
    assert result.checked == before + 2
