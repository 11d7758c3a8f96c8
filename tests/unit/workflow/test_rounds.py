"""Application rounds: a later round of the monitoring fund is a later programme version with its own window."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests import factories
from workflow import operations
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.definitions import Window
from workflow.errors import InvalidInput
from workflow.models import AuditEvent
from workflow.visibility import programme_definitions

CODE = "monitoring-fund"
# Seed 000 §二(四): the 2022 round closes on 30 September 2022 (monitoring-fund@2).
CLOSE_2022 = dt.date(2022, 9, 30)


def _open(opens: str, closes: str) -> tuple[str, Window | None, dict[str, str]]:
    with db.transaction() as session:
        row = operations.open_round(session, CODE, dt.date.fromisoformat(opens), dt.date.fromisoformat(closes), SYSTEM)
        definition = programme_definitions(session)[row.id]
        return row.label, definition.window, {s.key: s.zh for s in definition.local_settings}


def _problems(error: InvalidInput) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


def test_a_round_is_the_next_version_with_its_window_as_a_local_setting():
    with db.transaction() as session:
        before = operations.latest_version(session, CODE)
    label, window, settings = _open("2023-08-01", "2023-09-30")
    assert label == f"{CODE}@{before + 1}"
    assert window == Window(dt.date(2023, 8, 1), dt.date(2023, 9, 30))
    assert "本地设置" in settings["window"] and "2023-08-01 至 2023-09-30" in settings["window"]
    assert "window_opens" not in settings  # the 2022 round's reading of its opening day is not this round's
    with db.transaction() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "round_opened"))
        assert (event.definition, event.payload["closes"]) == (label, "2023-09-30")


def test_the_round_keeps_everything_else_of_the_newest_version():
    with db.transaction() as session:
        _row, newest = operations.current_programme(session, CODE)
    label, _window, _settings = _open("2023-08-01", "2023-09-30")
    with db.transaction() as session:
        _row, opened = operations.current_programme(session, CODE)
    assert opened.label == label
    assert (opened.transitions, opened.states, opened.form) == (newest.transitions, newest.states, newest.form)
    assert opened.raw["attachments"] == newest.raw["attachments"]


@pytest.mark.parametrize(
    ("opens", "closes", "problem"),
    [
        ("2023-09-30", "2023-08-01", ("closes", "before_opens")),
        ("2022-09-30", "2022-12-31", ("opens", "overlaps_round")),  # opens on the 2022 round's last day
        ("2022-01-01", "2022-08-05", ("opens", "overlaps_round")),  # closes on its first day
    ],
    ids=["closes-before-opens", "overlaps-the-close", "overlaps-the-opening"],
)
def test_a_round_that_closes_before_it_opens_or_overlaps_the_newest_is_refused(opens, closes, problem):
    with pytest.raises(InvalidInput) as refused:
        _open(opens, closes)
    assert problem in _problems(refused.value)


def test_a_round_may_open_the_day_after_the_last_one_closed():
    _label, window, _settings = _open(str(CLOSE_2022 + dt.timedelta(days=1)), "2022-12-31")
    assert window is not None and window.opens == dt.date(2022, 10, 1)
    with pytest.raises(InvalidInput) as refused:
        _open("2022-12-31", "2023-03-31")  # now the newest is the round just opened
    assert _problems(refused.value) == {("opens", "overlaps_round")}


def test_a_programme_without_a_window_has_no_rounds():
    with db.transaction() as session, pytest.raises(InvalidInput) as refused:
        operations.open_round(session, "emc-acceptance", dt.date(2027, 1, 1), dt.date(2027, 3, 31), SYSTEM)
    assert _problems(refused.value) == {("programme", "no_window")}


def test_new_applications_enter_the_round_and_those_in_flight_keep_theirs(cast):
    first = factories.new_application(cast, CODE)  # the factory opened a round around today
    in_flight = factories.definition_of(first)
    assert in_flight.window is not None and in_flight.window.closes is not None
    after = in_flight.window.closes + dt.timedelta(days=1)
    label, _window, _settings = _open(str(after), str(after + dt.timedelta(days=59)))
    second = operations.create_application(cast.applicant, CODE, "enterprise", "下一轮的项目").id
    assert factories.definition_of(second).label == label
    assert factories.definition_of(first).label == in_flight.label
