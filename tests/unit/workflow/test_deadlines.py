"""Supplement deadlines: due at the end of the due date in Shanghai, lapsed by the system once, closed by supplying."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests import factories
from workflow import deadlines
from workflow.db import as_utc, db
from workflow.engine import fire
from workflow.models import AuditEvent, Deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = factories.working_day(20)  # a due date is a working day
# The end of the due date, Shanghai time: midnight after it (16:00 UTC on the due date itself).
END_OF_DUE = dt.datetime.combine(DUE + dt.timedelta(days=1), dt.time(), SHANGHAI)


def _deadlines(app_id: int) -> list[Deadline]:
    with db.transaction() as session:
        return list(session.scalars(select(Deadline).where(Deadline.application_id == app_id).order_by(Deadline.id)))


def _lapse_events(app_id: int) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.application_id == app_id,
                    AuditEvent.trigger == "lapse",
                    AuditEvent.outcome == "transition",
                )
            )
        )


@pytest.fixture
def requested(cast) -> int:
    """An application whose supplement is due on DUE."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    fire(app_id, "request_supplement", cast.municipal_reviewer, {"items": ["审计报告"], "due_date": DUE.isoformat()})
    return app_id


def test_request_opens_a_deadline_at_the_end_of_the_due_date(requested):
    """One open deadline, firing `lapse`, due at midnight after the due date in Asia/Shanghai."""
    (deadline,) = _deadlines(requested)
    assert (deadline.state, deadline.trigger, deadline.closed_at, deadline.fired_at) == (
        "supplement_requested",
        "lapse",
        None,
        None,
    )
    assert as_utc(deadline.due_at) == END_OF_DUE.astimezone(dt.UTC)
    assert as_utc(deadline.due_at).time() == dt.time(16, 0)


@pytest.mark.parametrize(
    "before",
    [END_OF_DUE - dt.timedelta(seconds=1), (END_OF_DUE - dt.timedelta(seconds=1)).astimezone(dt.UTC)],
    ids=["shanghai-clock", "utc-clock"],
)
def test_nothing_fires_before_the_due_time(requested, before):
    """At 23:59:59 on the due date (Shanghai) the applicant still has time, however the clock is expressed."""
    assert deadlines.fire_due(now=before) == []
    assert factories.state_of(requested)[0] == "supplement_requested"
    assert _deadlines(requested)[0].fired_at is None


@pytest.mark.parametrize(
    "after",
    [END_OF_DUE + dt.timedelta(seconds=1), (END_OF_DUE + dt.timedelta(seconds=1)).astimezone(dt.UTC)],
    ids=["shanghai-clock", "utc-clock"],
)
def test_overdue_supplement_lapses_as_the_system(requested, after):
    """Once the due date has passed, the system fires `lapse`: the application is lapsed, the audit says 'system'."""
    (outcome,) = deadlines.fire_due(now=after)
    assert (outcome.application_id, outcome.trigger, outcome.state, outcome.error) == (
        requested,
        "lapse",
        "lapsed",
        None,
    )
    assert factories.state_of(requested)[0] == "lapsed"
    (event,) = _lapse_events(requested)
    assert (event.actor, event.role, event.actor_id) == ("system", "system", None)
    (deadline,) = _deadlines(requested)
    assert deadline.fired_at is not None
    assert deadline.closed_at is not None


def test_running_twice_fires_once(requested):
    """A second run (or an overlapping beat) finds nothing left to fire."""
    later = END_OF_DUE + dt.timedelta(hours=1)
    assert len(deadlines.fire_due(now=later)) == 1
    assert deadlines.fire_due(now=later + dt.timedelta(hours=1)) == []
    assert len(_lapse_events(requested)) == 1


def test_supplying_in_time_closes_the_deadline(cast, requested):
    """Supplying before the due date closes the deadline, so it never fires."""
    fire(requested, "supply", cast.applicant, {"answers": {"1": "已上传审计报告"}})
    (deadline,) = _deadlines(requested)
    assert deadline.closed_at is not None
    assert deadlines.fire_due(now=END_OF_DUE + dt.timedelta(days=5)) == []
    assert factories.state_of(requested)[0] == "completeness_check"
    assert _lapse_events(requested) == []


def test_a_new_request_opens_a_new_deadline(cast, requested):
    """After supplying, a second request gets its own deadline; only that one can fire."""
    fire(requested, "supply", cast.applicant, {"answers": {"1": "已上传"}})
    second_due = DUE + dt.timedelta(days=14)  # the same weekday two weeks on: a working day too
    fire(requested, "request_supplement", cast.municipal_reviewer, {"items": ["盖章页"], "due_date": str(second_due)})
    first, second = _deadlines(requested)
    assert first.closed_at is not None and second.closed_at is None
    assert deadlines.fire_due(now=END_OF_DUE + dt.timedelta(days=1)) == []
    assert [o.state for o in deadlines.fire_due(now=END_OF_DUE + dt.timedelta(days=15))] == ["lapsed"]


def test_withdrawing_closes_the_deadline(cast, requested):
    """Leaving the state any other way closes the deadline too."""
    fire(requested, "withdraw", cast.applicant)
    assert deadlines.fire_due(now=END_OF_DUE + dt.timedelta(days=1)) == []
    assert factories.state_of(requested)[0] == "withdrawn"
