"""The outbox: rows written with the transition, relayed to Celery after commit, retried when a task fails.

The test app's Celery is eager: fire() wakes the relay after its commit, which runs the tasks in-process.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from notifications import operations as notification_operations
from notifications.models import Delivery, Notification
from notifications.tasks import TASK as NOTIFY_TASK
from tests import factories
from workflow import outbox, registry
from workflow.db import db, utcnow
from workflow.engine import fire
from workflow.models import OutboxMessage


def _outbox(app_id: int) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.application_id == app_id).order_by(OutboxMessage.id)
            )
        )


def _notified(event_seq: int) -> dict[int, str]:
    """user id -> kind, for one audit event."""
    with db.transaction() as session:
        rows = session.scalars(select(Notification).where(Notification.event_seq == event_seq))
        return {n.user_id: n.kind for n in rows}


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the relay asleep after commits, so the rows can be seen before they are sent."""
    monkeypatch.setattr(outbox, "_kicker", None)


def test_transition_writes_one_row_per_subscriber(cast, held):
    """Each subscriber of 'transitioned' gets a row naming the application and the audit event."""
    app_id = factories.new_application(cast)
    result = fire(app_id, "submit", cast.applicant)
    rows = _outbox(app_id)
    assert NOTIFY_TASK in registry.SUBSCRIBERS["transitioned"]
    assert sorted(r.task for r in rows) == sorted(registry.SUBSCRIBERS["transitioned"])
    assert all(r.kwargs == {"application_id": app_id, "event_seq": result.event_seq} for r in rows)
    assert all(r.dispatched_at is None and r.attempts == 0 for r in rows)
    with db.transaction() as session:
        assert outbox.pending(session) == len(rows)


def test_refused_command_writes_no_row(cast, held):
    """Only committed changes reach the outbox."""
    app_id = factories.new_application(cast)
    with pytest.raises(Exception, match="not allowed"):
        fire(app_id, "resubmit", cast.applicant)
    assert _outbox(app_id) == []


def test_relay_dispatches_held_rows(cast, held):
    """An explicit relay sends the rows and marks them dispatched."""
    app_id = factories.new_application(cast)
    result = fire(app_id, "submit", cast.applicant)
    assert _notified(result.event_seq) == {}
    assert outbox.relay() == len(_outbox(app_id))
    assert all(r.dispatched_at is not None and r.attempts == 1 for r in _outbox(app_id))
    assert cast.district_reviewer.id in _notified(result.event_seq)
    with db.transaction() as session:  # the notification task planned one mail per person told, through the outbox
        planned = len(session.scalars(select(Delivery.id)).all())
    assert planned == len(_notified(result.event_seq))
    assert outbox.relay() == planned
    assert outbox.relay() == 0


def test_next_actors_are_told_it_is_their_turn(cast):
    """After submit, the reviewer of the project's district hears of it; the other district's does not."""
    app_id = factories.new_application(cast)
    result = fire(app_id, "submit", cast.applicant)
    notified = _notified(result.event_seq)
    assert notified[cast.district_reviewer.id] == "your_turn"
    assert cast.other_district_reviewer.id not in notified
    assert cast.applicant.id in notified  # the applicant may still withdraw
    assert cast.other_applicant.id not in notified
    assert cast.municipal_reviewer.id not in notified and cast.auditor.id not in notified
    assert all(r.dispatched_at is not None for r in _outbox(app_id))


def test_next_stage_is_told_after_pre_review(cast):
    """Passing pre-review hands the turn to the municipal reviewer; the district reviewer is done."""
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    result = fire(app_id, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK)
    notified = _notified(result.event_seq)
    assert notified[cast.municipal_reviewer.id] == "your_turn"
    assert cast.district_reviewer.id not in notified


def test_monitoring_fund_notifies_the_metering_institute(cast):
    """In the other programme, submit hands the turn to the monitoring reviewer, not to any district."""
    app_id = factories.new_application(cast, "monitoring-fund")
    result = fire(app_id, "submit", cast.applicant)
    notified = _notified(result.event_seq)
    assert notified[cast.monitoring_reviewer.id] == "your_turn"
    assert cast.district_reviewer.id not in notified


def test_applicant_hears_of_a_decision_it_cannot_act_on(cast):
    """After the award is approved the applicant has nothing to fire, but is told the status changed."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "award_proposed")
    result = fire(app_id, "approve_award", cast.finance_officer2)
    notified = _notified(result.event_seq)
    assert notified[cast.applicant.id] == "status_changed"
    assert notified[cast.finance_officer.id] == "your_turn"


def test_failing_task_is_kept_and_retried(cast, monkeypatch: pytest.MonkeyPatch):
    """A task that fails leaves its row undispatched with the error; a later relay sends it."""

    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("notification store unavailable")

    monkeypatch.setattr(notification_operations, "notify_transition", broken)
    app_id = factories.new_application(cast)
    result = fire(app_id, "submit", cast.applicant)  # the command itself succeeds
    assert result.state == "district_review"
    (row,) = (r for r in _outbox(app_id) if r.task == NOTIFY_TASK)
    assert (row.dispatched_at, row.attempts) == (None, 1)
    assert "notification store unavailable" in row.last_error
    assert _notified(result.event_seq) == {}

    monkeypatch.undo()
    assert outbox.relay() == 0  # still leased after the failure: no hot retry loop
    assert outbox.relay(now=utcnow() + dt.timedelta(minutes=5)) >= 1
    (row,) = (r for r in _outbox(app_id) if r.task == NOTIFY_TASK)
    assert row.dispatched_at is not None and row.attempts == 2
    assert _notified(result.event_seq)[cast.district_reviewer.id] == "your_turn"


def test_redelivered_task_adds_nothing(cast):
    """At-least-once delivery: sending the same row again writes no second notification."""
    app_id = factories.new_application(cast)
    result = fire(app_id, "submit", cast.applicant)
    before = _notified(result.event_seq)
    with db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.application_id == app_id)
            .values(dispatched_at=None, claimed_until=None)
        )
    assert outbox.relay() >= 1
    assert _notified(result.event_seq) == before
    with db.transaction() as session:
        assert notification_operations.unread_count(session, cast.district_reviewer.id) == 1
