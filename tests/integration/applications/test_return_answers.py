"""Issue 15 (4): the applicant answers each return or supplement point; the reviewer sees each answer beside its
point and what changed since the revision they last read, without marking anything read."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select

from review import prereview
from review.models import ReturnRequest, RevisionRead
from tests import factories
from tests.support.api import bearer, problem
from tests.support.pages import fire_form, log_in
from workflow import operations
from workflow.db import db
from workflow.engine import fire

ALL_OK = {f"check_{name}": "ok" for name in prereview.CHECKS}
POINTS = ("补充法定代表人签字页", "审计报告加盖公章")


def _section(response: Any, section_id: str) -> str:
    found = re.search(rf'<section class="card" id="{section_id}".*?</section>', response.text, re.S)
    assert found, f"no #{section_id} card on the page"
    return re.sub(r"\s+", " ", html.unescape(found.group(0)))


def _marker(user_id: int, app_id: int) -> int | None:
    with db.transaction() as session:
        return session.scalar(
            select(RevisionRead.number).where(RevisionRead.user_id == user_id, RevisionRead.application_id == app_id)
        )


def _returns(app_id: int) -> list[ReturnRequest]:
    with db.transaction() as session:
        query = select(ReturnRequest).where(ReturnRequest.application_id == app_id).order_by(ReturnRequest.id)
        return list(session.scalars(query))


def _resubmit(client: Any, app_id: int, answers: dict[str, str]) -> Any:
    """The applicant's "submit" on the check page, each point's answer beside it (fields prefixed by the trigger)."""
    body = {"resubmit-expected_version": str(factories.state_of(app_id)[1])}
    body.update({f"resubmit-{name}": value for name, value in answers.items()})
    return client.post(f"/applications/{app_id}/check", data=body)


def _return_on_the_card(app: Any, cast: factories.Cast, app_id: int) -> Any:
    """The district reviewer opens the submission (revision 1), then returns it with two points on the card."""
    reviewer = log_in(app, cast.district_reviewer, lang="en")
    assert reviewer.get(f"/applications/{app_id}").status_code == 200
    body = {"prereview-expected_version": str(factories.state_of(app_id)[1])}
    data = {**ALL_OK, "check_form_authenticity": "problem", "opinion": "申请表不完整", "points": "\n".join(POINTS)}
    body.update({f"prereview-{name}": value for name, value in data.items()})
    assert reviewer.post(f"/applications/{app_id}/transitions/return_for_correction", data=body).status_code == 303
    assert factories.state_of(app_id)[0] == "returned"
    return reviewer


def test_district_return_with_two_points_answered_and_read_without_a_marker(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    reviewer = _return_on_the_card(app, cast, app_id)
    assert _marker(cast.district_reviewer.id, app_id) == 1  # opening the page read revision 1
    (returned,) = _returns(app_id)
    assert returned.items == [{"id": "1", "text": POINTS[0]}, {"id": "2", "text": POINTS[1]}]

    # The applicant corrects one field and sees each point with an answer box beside the resubmission.
    operations.update_draft(cast.applicant, app_id, {"innovation": "空压站群控"}, factories.state_of(app_id)[1])
    applicant = log_in(app, cast.applicant, lang="en")
    page = applicant.get(f"/applications/{app_id}/check").text  # resubmitting goes through "check your answers"
    form = re.search(r'<form method="post" action="/applications/\d+/check".*?</form>', page, re.S)
    assert form, "no resubmit form on the applicant's check page"
    for n, point in enumerate(POINTS):
        assert re.search(rf'<label[^>]*for="resubmit-answer_{n}"[^>]*>\s*{point}', form.group(0))
        assert f'name="resubmit-answer_{n}"' in form.group(0)

    # One point left unanswered: refused, the point named beside its box, nothing resubmitted.
    refused = _resubmit(applicant, app_id, {"answer_0": "已补充签字页", "answer_1": " "})
    assert refused.status_code == 422 and 'id="resubmit-answer_1-error"><p>Answer item 2.' in refused.text
    assert factories.state_of(app_id)[0] == "returned"

    done = _resubmit(applicant, app_id, {"answer_0": "已补充签字页", "answer_1": "已加盖公章"})
    assert done.status_code == 303 and factories.state_of(app_id)[0] == "district_review"
    assert _returns(app_id)[0].answers == {"1": "已补充签字页", "2": "已加盖公章"}

    # The reviewer opens the page: each point beside its answer, and the field changed since revision 1.
    card = _section(reviewer.get(f"/applications/{app_id}"), "changes")
    assert "Answers to the points to correct (revision 2)" in card
    assert f"<dt>1. {POINTS[0]}</dt><dd>已补充签字页</dd>" in card
    assert f"<dt>2. {POINTS[1]}</dt><dd>已加盖公章</dd>" in card
    assert "Changed since revision 1, which you last read" in card
    assert "<dt>Other: innovations</dt> <dd><del>" in card and "<ins>空压站群控</ins>" in card
    assert _marker(cast.district_reviewer.id, app_id) == 2  # recorded by opening the page, no button pressed

    # A second opening: the answers stay beside the points, and no change is pending.
    again = _section(reviewer.get(f"/applications/{app_id}"), "changes")
    assert f"<dt>1. {POINTS[0]}</dt><dd>已补充签字页</dd>" in again
    assert "Nothing has changed since revision 2, which you last read." in again
    assert "changes-form" not in again and "<ins>" not in again


def test_the_applicant_sees_no_changes_card_and_reads_nothing(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    page = log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}")
    assert 'id="changes"' not in page.text
    assert _marker(cast.applicant.id, app_id) is None


def test_the_monitoring_reviewer_lists_points_on_the_return_form(app, cast):
    """A return with no card (the monitoring fund's 市计测院): the form takes the points beside the comment."""
    app_id = factories.new_application(cast, programme="monitoring-fund")
    factories.drive_to(cast, app_id, "technical_review")
    reviewer = log_in(app, cast.monitoring_reviewer, lang="en")
    page = reviewer.get(f"/applications/{app_id}").text
    assert 'name="return_for_correction-points"' in page
    done = fire_form(reviewer, app_id, "return_for_correction", {"points": "补充关口表清单\n\n更正接入率\n"})
    assert done.status_code == 303 and factories.state_of(app_id)[0] == "returned"
    (returned,) = _returns(app_id)
    assert [i["text"] for i in returned.items] == ["补充关口表清单", "更正接入率"]
    assert returned.comment == "补充关口表清单\n更正接入率"  # the points are the comment the definition requires

    applicant = log_in(app, cast.applicant, lang="en")
    answers = {"answer_0": "已补充", "answer_1": "已更正"}
    assert _resubmit(applicant, app_id, answers).status_code == 303
    card = _section(reviewer.get(f"/applications/{app_id}"), "changes")
    assert "<dt>1. 补充关口表清单</dt><dd>已补充</dd>" in card and "<dt>2. 更正接入率</dt><dd>已更正</dd>" in card


def test_a_return_with_a_comment_alone_lists_one_point_per_line(cast):
    """As the pre-review card reads a comment (review.prereview.points_of): the monitoring fund's return alike."""
    app_id = factories.new_application(cast, programme="monitoring-fund")
    factories.drive_to(cast, app_id, "technical_review")
    fire(app_id, "return_for_correction", cast.monitoring_reviewer, {"comment": "请补充盖章页\n并更正投资额"})
    (returned,) = _returns(app_id)
    assert returned.items == [{"id": "1", "text": "请补充盖章页"}, {"id": "2", "text": "并更正投资额"}]


def test_the_api_checks_the_answers_and_keeps_them_with_the_revision(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "请修改", "points": list(POINTS)})
    applicant = bearer(client, cast.applicant)
    url = f"/api/v1/applications/{app_id}/transitions"
    version = factories.state_of(app_id)[1]
    for answers, field in (({"1": "已补充"}, "answers.2"), ({"1": "a", "2": "b", "3": "c"}, "answers.3")):
        body = {"trigger": "resubmit", "payload": {"answers": answers}, "expected_version": version}
        refused = problem(client.post(url, json=body, headers=applicant), 422, "guard_failed")
        assert field in {e["field"] for e in refused["errors"]}
    answered = {"1": "已补充签字页", "2": "已加盖公章"}
    body = {"trigger": "resubmit", "payload": {"answers": answered}, "expected_version": version}
    assert client.post(url, json=body, headers=applicant).status_code == 200
    revision = client.get(f"/api/v1/applications/{app_id}/revisions/2", headers=applicant).get_json()
    assert [(i["text"], i["answer"]) for i in revision["return_answers"]["items"]] == [
        (POINTS[0], "已补充签字页"),
        (POINTS[1], "已加盖公章"),
    ]
    assert revision["supplement"] is None


def test_supplement_answers_show_beside_their_items(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "supplement_requested")
    factories.upload(factories.flask_app(), cast, app_id, "supplement")
    applicant = log_in(app, cast.applicant, lang="en")
    answers = {"answer_0": "已上传专项审计报告", "answer_1": "已上传设备清单"}
    assert fire_form(applicant, app_id, "supply", answers).status_code == 303

    reviewer = log_in(app, cast.municipal_reviewer, lang="en")
    card = _section(reviewer.get(f"/applications/{app_id}"), "changes")
    assert 'data-kind="supplement"' in card and "Supplement answers (revision 2)" in card
    assert "<dt>1. 会计师事务所专项审计报告</dt><dd>已上传专项审计报告</dd>" in card
    assert "<dt>2. 设备清单</dt><dd>已上传设备清单</dd>" in card
    # Never having read it, the reviewer sees what changed since the previous submission: the supplement added.
    assert "Changed since revision 1, the previous submission" in card and "Supplement" in card
    assert _marker(cast.municipal_reviewer.id, app_id) == 2
