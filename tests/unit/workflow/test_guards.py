"""Guards of the engine itself: required payload fields, four eyes on the award, the application window."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from workflow.definitions import shipped
from workflow.engine import fire
from workflow.errors import GuardFailed

DEFINITIONS = shipped()


def _required_fields() -> list[pytest.ParameterSet]:
    """One case per (programme, trigger, source, required field), from the definitions."""
    return [
        pytest.param(
            definition,
            transition,
            transition.sources[0],
            name,
            id=f"{definition.code}:{transition.trigger}@{transition.sources[0]}:{name}",
        )
        for definition in DEFINITIONS
        for transition in definition.transitions
        for name in transition.requires
    ]


def _comment_required() -> list[pytest.ParameterSet]:
    return [case for case in _required_fields() if case.values[3] == "comment"]


def _problems(error: GuardFailed) -> dict[str, str]:
    return {p.field: p.code for p in error.problems}


@pytest.mark.parametrize(("definition", "transition", "source", "field"), _required_fields())
def test_missing_required_field_is_named(cast, definition, transition, source, field):
    """Leaving out a field the transition requires: GuardFailed naming the field, nothing moves."""
    app_id = factories.new_application(cast, definition.code, definition.applicant_kinds[0])
    factories.drive_to(cast, app_id, source)
    role = transition.roles[0]
    if role == "expert":
        factories.ensure_leader(cast, app_id)
    payload = factories.payload_for(transition.trigger, app_id)
    payload.pop(field)

    with pytest.raises(GuardFailed) as excinfo:
        fire(app_id, transition.trigger, factories.actor_for(cast, transition.trigger, role), payload)

    assert excinfo.value.status == 422
    assert _problems(excinfo.value)[field] == "required"
    # The API answers with these as RFC 7807 `errors`.
    assert any(e["field"] == field and e["code"] == "required" for e in excinfo.value.as_dict()["errors"])
    assert factories.state_of(app_id)[0] == source


@pytest.mark.parametrize(("definition", "transition", "source", "field"), _comment_required())
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_blank_comment_counts_as_missing(cast, definition, transition, source, field, blank):
    """A comment of only whitespace explains nothing: refused as missing."""
    app_id = factories.new_application(cast, definition.code, definition.applicant_kinds[0])
    factories.drive_to(cast, app_id, source)
    role = transition.roles[0]
    if role == "expert":
        factories.ensure_leader(cast, app_id)
    if "panel_sheets_complete" in transition.guards:
        factories.score_sheet(cast.expert, app_id)  # so the comment is the only thing missing
        factories.note_visit_steps(app_id)
    payload = {**factories.payload_for(transition.trigger, app_id), field: blank}

    with pytest.raises(GuardFailed) as excinfo:
        fire(app_id, transition.trigger, factories.actor_for(cast, transition.trigger, role), payload)

    assert _problems(excinfo.value) == {"comment": "required"}


def test_every_problem_is_reported_at_once(cast):
    """A missing field and a wrong one are both named, not just the first."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    with pytest.raises(GuardFailed) as excinfo:
        fire(app_id, "request_supplement", cast.municipal_reviewer, {"due_date": "2020-01-01"})
    assert _problems(excinfo.value) == {"items": "required", "due_date": "not_in_future"}


# --- four eyes: the officer who proposed an award does not also approve or send it back ----------------------


@pytest.fixture(params=[d.code for d in DEFINITIONS])
def proposed(request, cast) -> int:
    """An application of each programme with an award proposed by the first finance officer."""
    definition = next(d for d in DEFINITIONS if d.code == request.param)
    app_id = factories.new_application(cast, definition.code, definition.applicant_kinds[0])
    factories.drive_to(cast, app_id, "funding_review")
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "100000.00", "comment": "按年度预算分批"})
    return app_id


@pytest.mark.parametrize("trigger", ["approve_award", "send_back"])
def test_proposer_may_not_also_decide(cast, proposed, trigger):
    """The proposing officer is refused with the four-eyes reason; the application stays proposed."""
    with pytest.raises(GuardFailed) as excinfo:
        fire(proposed, trigger, cast.finance_officer, factories.payload_for(trigger, proposed))
    assert _problems(excinfo.value) == {"actor": "four_eyes"}
    assert cast.finance_officer.username in excinfo.value.detail
    assert factories.state_of(proposed)[0] == "award_proposed"


@pytest.mark.parametrize(("trigger", "dest"), [("approve_award", "award_approved"), ("send_back", "funding_review")])
def test_second_officer_decides(cast, proposed, trigger, dest):
    """A different finance officer approves or sends back."""
    result = fire(proposed, trigger, cast.finance_officer2, factories.payload_for(trigger, proposed))
    assert result.state == dest


def test_four_eyes_follows_the_latest_proposal(cast, proposed):
    """After a send-back the second officer re-proposes; now the first may approve and the second may not."""
    fire(proposed, "send_back", cast.finance_officer2, {"comment": "金额超出预算"})
    fire(proposed, "propose_award", cast.finance_officer2, {"amount": "90000.00", "comment": "按年度预算分批"})
    with pytest.raises(GuardFailed):
        fire(proposed, "approve_award", cast.finance_officer2)
    assert fire(proposed, "approve_award", cast.finance_officer).state == "award_approved"


# --- the application window (seed 000 §二(四) "于2022年9月30日前…提交申请") -------------------------------------------


def _in_the_2022_round(cast: factories.Cast) -> int:
    """A monitoring-fund draft of the 2022 round (monitoring-fund@2: 2022-08-05 to 2022-09-30), ready to submit."""
    from sqlalchemy import select

    from workflow.db import db
    from workflow.models import Application, ProgrammeVersion

    app_id = factories.new_application(cast, "monitoring-fund")
    with db.transaction() as session:
        v2 = session.scalars(
            select(ProgrammeVersion).where(ProgrammeVersion.code == "monitoring-fund", ProgrammeVersion.version == 2)
        ).one()
        app = session.get(Application, app_id)
        assert app is not None
        app.programme_version_id = v2.id
    return app_id


def _at(monkeypatch: pytest.MonkeyPatch, instant: str) -> None:
    """The guard's clock reads `instant` (UTC)."""
    moment = dt.datetime.fromisoformat(instant)
    monkeypatch.setattr("workflow.guards.utcnow", lambda: moment)


@pytest.mark.parametrize(
    "instant",
    ["2022-09-30T15:59:59+00:00", "2022-08-04T16:00:00+00:00"],
    ids=["23:59:59-on-30-september-in-shanghai", "00:00-on-5-august-in-shanghai"],
)
def test_submit_within_the_window_is_accepted(cast, monkeypatch, instant):
    app_id = _in_the_2022_round(cast)
    _at(monkeypatch, instant)
    assert fire(app_id, "submit", cast.applicant).state == "technical_review"


@pytest.mark.parametrize(
    ("instant", "code", "today"),
    [
        ("2022-09-30T16:00:00+00:00", "window_closed", "2022-10-01"),
        ("2022-08-04T15:59:59+00:00", "window_not_open", "2022-08-04"),
    ],
    ids=["1-october-in-shanghai", "4-august-in-shanghai"],
)
def test_submit_outside_the_window_is_refused_with_the_dates(cast, monkeypatch, instant, code, today):
    app_id = _in_the_2022_round(cast)
    _at(monkeypatch, instant)
    with pytest.raises(GuardFailed) as excinfo:
        fire(app_id, "submit", cast.applicant)
    (problem,) = [p for p in excinfo.value.problems if p.field == "window"]
    assert problem.code == code
    assert "2022-08-05 起至 2022-09-30 止（含首尾两日，上海时间）" in problem.message
    assert f"今天是 {today}" in problem.message
    assert factories.state_of(app_id)[0] == "draft"


def test_a_returned_application_may_be_resubmitted_after_the_close(cast, monkeypatch):
    """Resubmit names no window: submitted in time, returned, corrected after 30 September, sent back."""
    app_id = _in_the_2022_round(cast)
    _at(monkeypatch, "2022-09-30T08:00:00+00:00")
    fire(app_id, "submit", cast.applicant)
    fire(app_id, "return_for_correction", cast.monitoring_reviewer, {"comment": "请补充关口表改造证明"})
    _at(monkeypatch, "2022-10-10T02:00:00+00:00")
    assert fire(app_id, "resubmit", cast.applicant).state == "technical_review"
