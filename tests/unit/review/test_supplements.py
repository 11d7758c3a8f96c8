"""Supplement requests: items and a future due date going out, every item answered coming back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from review.models import SupplementRequest
from tests import factories
from workflow import workdays
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today_in_shanghai() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def _future() -> str:
    return factories.working_day(14).isoformat()


@pytest.fixture
def checking(cast) -> int:
    """An application at the municipal completeness check."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    return app_id


@pytest.fixture
def requested(cast, checking) -> int:
    """An application with two items requested."""
    fire(
        checking,
        "request_supplement",
        cast.municipal_reviewer,
        {"items": ["审计报告", "设备清单"], "due_date": _future()},
    )
    return checking


def _problems(error: GuardFailed) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"items": [], "due_date": "FUTURE"}, ("items", "empty")),
        ({"items": "审计报告", "due_date": "FUTURE"}, ("items", "empty")),
        ({"items": ["审计报告", "  "], "due_date": "FUTURE"}, ("items[1]", "empty")),
        (
            {"items": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "due_date": "FUTURE"},
            ("items", "duplicate_id"),
        ),
        ({"items": ["审计报告"], "due_date": "2026-02-30"}, ("due_date", "invalid_date")),
        ({"items": ["审计报告"], "due_date": "next friday"}, ("due_date", "invalid_date")),
        ({"items": ["审计报告"], "due_date": "2020-01-01"}, ("due_date", "not_in_future")),
        ({"items": ["审计报告"], "due_date": "TODAY"}, ("due_date", "not_in_future")),
    ],
    ids=["no-items", "items-not-a-list", "blank-item", "duplicate-ids", "bad-date", "words", "past-date", "today"],
)
def test_bad_request_names_field_and_code(cast, checking, payload, problem):
    """A request without proper items or a due date after today (Shanghai) is refused, naming why."""
    substitutes = {"FUTURE": _future(), "TODAY": _today_in_shanghai().isoformat()}
    payload = {k: substitutes.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    with pytest.raises(GuardFailed) as excinfo:
        fire(checking, "request_supplement", cast.municipal_reviewer, payload)
    assert problem in _problems(excinfo.value)
    assert factories.state_of(checking)[0] == "completeness_check"


@pytest.fixture
def plain_weeks() -> Iterator[None]:
    """No holidays configured: only weekends are days off."""
    saved = (set(workdays.HOLIDAYS), set(workdays.WORKING_WEEKENDS))
    workdays.configure()
    yield
    workdays.configure(*saved)


def _next_saturday() -> dt.date:
    day = _today_in_shanghai() + dt.timedelta(days=7)
    return day + dt.timedelta(days=(5 - day.weekday()) % 7)


def test_a_due_date_on_a_saturday_is_refused_and_the_friday_before_accepted(cast, checking, plain_weeks):
    """Issue 9 (7a): a supplement deadline is a working day (workflow.workdays), not a weekend."""
    saturday = _next_saturday()
    friday = saturday - dt.timedelta(days=1)
    assert (saturday.isoweekday(), friday.isoweekday()) == (6, 5)
    with pytest.raises(GuardFailed) as refused:
        fire(
            checking, "request_supplement", cast.municipal_reviewer, {"items": ["审计报告"], "due_date": str(saturday)}
        )
    (problem,) = refused.value.problems
    assert (problem.field, problem.code) == ("due_date", "not_working_day")
    assert f"{saturday}（星期六）" in problem.message and "不是工作日" in problem.message
    assert factories.state_of(checking)[0] == "completeness_check"

    fire(checking, "request_supplement", cast.municipal_reviewer, {"items": ["审计报告"], "due_date": str(friday)})
    with db.transaction() as session:
        request = session.scalars(select(SupplementRequest).where(SupplementRequest.application_id == checking)).one()
        assert request.due_date == friday


def test_a_configured_holiday_is_no_due_date_and_a_worked_saturday_is(cast, checking):
    """National Day 2027 (1 October, a Friday) off; Saturday 9 October 2027 worked (调休)."""
    saved = (set(workdays.HOLIDAYS), set(workdays.WORKING_WEEKENDS))
    workdays.configure([dt.date(2027, 10, 1)], [dt.date(2027, 10, 9)])
    try:
        with pytest.raises(GuardFailed) as refused:
            fire(
                checking,
                "request_supplement",
                cast.municipal_reviewer,
                {"items": ["审计报告"], "due_date": "2027-10-01"},
            )
        assert _problems(refused.value) == {("due_date", "not_working_day")}
        assert "2027-10-01（星期五）是法定节假日" in refused.value.detail
        payload = {"items": ["审计报告"], "due_date": "2027-10-09"}
        assert fire(checking, "request_supplement", cast.municipal_reviewer, payload).state == "supplement_requested"
    finally:
        workdays.configure(*saved)


def test_request_records_items_and_due_date(cast, requested):
    """The request is stored with numbered items, the due date and who asked."""
    with db.transaction() as session:
        request = session.scalars(select(SupplementRequest).where(SupplementRequest.application_id == requested)).one()
        assert request.items == [{"id": "1", "text": "审计报告"}, {"id": "2", "text": "设备清单"}]
        assert request.due_date.isoformat() == _future()
        assert request.requested_by_id == cast.municipal_reviewer.id
        assert request.answers is None
    assert factories.state_of(requested)[0] == "supplement_requested"


def test_unanswered_item_is_named(cast, requested):
    """Supplying without answering every item names the missing item; nothing moves."""
    with pytest.raises(GuardFailed) as excinfo:
        fire(requested, "supply", cast.applicant, {"answers": {"1": "已上传", "2": "  "}})
    assert _problems(excinfo.value) == {("answers.2", "unanswered")}
    assert "设备清单" in excinfo.value.detail
    assert factories.state_of(requested)[0] == "supplement_requested"


def test_answer_to_an_unknown_item_is_refused(cast, requested):
    """An answer keyed by an item that was never asked for is named."""
    with pytest.raises(GuardFailed) as excinfo:
        fire(requested, "supply", cast.applicant, {"answers": {"1": "a", "2": "b", "9": "c"}})
    assert _problems(excinfo.value) == {("answers.9", "unknown_item")}


def test_answers_must_be_a_mapping(cast, requested):
    """Answers given as a list cannot be matched to items."""
    with pytest.raises(GuardFailed) as excinfo:
        fire(requested, "supply", cast.applicant, {"answers": ["a", "b"]})
    assert _problems(excinfo.value) == {("answers", "invalid")}


def test_supply_records_answers(cast, requested):
    """Answering every item returns the application to the completeness check with the answers kept."""
    result = fire(requested, "supply", cast.applicant, {"answers": {"1": "已上传审计报告", "2": "已上传设备清单"}})
    assert result.state == "completeness_check"
    with db.transaction() as session:
        request = session.scalars(select(SupplementRequest).where(SupplementRequest.application_id == requested)).one()
        assert request.answers == {"1": "已上传审计报告", "2": "已上传设备清单"}
        assert request.answered_at is not None


def test_second_round_answers_the_new_request(cast, requested):
    """After one round is answered, a new request must be answered on its own items."""
    fire(requested, "supply", cast.applicant, {"answers": {"1": "a", "2": "b"}})
    fire(requested, "request_supplement", cast.municipal_reviewer, {"items": ["盖章页"], "due_date": _future()})
    with pytest.raises(GuardFailed) as excinfo:
        fire(requested, "supply", cast.applicant, {"answers": {"1": ""}})
    assert "盖章页" in excinfo.value.detail
    assert fire(requested, "supply", cast.applicant, {"answers": {"1": "已补盖章页"}}).state == "completeness_check"
