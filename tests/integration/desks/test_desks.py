"""Review desks: each desk's queue through the one visibility function, the decisions over the API, deadlines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from forms.samples import sample_form
from review import queues
from review.models import SupplementRequest
from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from workflow import deadlines, operations, workdays
from workflow.db import as_utc, db
from workflow.engine import fire
from workflow.errors import InvalidInput
from workflow.models import Deadline

PREFIX = "/api/v1"
SHANGHAI_OFFSET = dt.timedelta(hours=8)
# Monday 27 September 2027, 10:00 in Shanghai.
MONDAY = dt.datetime(2027, 9, 27, 2, 0, tzinfo=dt.UTC)


class Clock:
    """A clock that stands still until moved: audit times, the engine's `now` and the supplement guard read it."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(MONDAY)
    for target in (
        "workflow.audit.utcnow",
        "workflow.engine.utcnow",
        "review.supplements.utcnow",
        "web.desks.pages.utcnow",
        "web.desks.api.utcnow",
    ):
        monkeypatch.setattr(target, frozen)
    return frozen


@pytest.fixture
def golden_week() -> Iterator[None]:
    """National Day 2027 off (1–7 October), Saturday 9 October worked (调休)."""
    saved = (set(workdays.HOLIDAYS), set(workdays.WORKING_WEEKENDS))
    workdays.configure([dt.date(2027, 10, day) for day in range(1, 8)], [dt.date(2027, 10, 9)])
    yield
    workdays.configure(*saved)


def _submitted(cast: factories.Cast, kind: str = "enterprise", name: str = "能源管理中心建设项目") -> int:
    app_id = factories.new_application(cast, kind=kind, project_name=name)
    factories.drive_to(cast, app_id, "district_review")
    return app_id


def _queue(user: Any, **params: Any) -> queues.DeskQueue:
    with db.transaction() as session:
        return queues.desk_queue(session, user, **params)


def _ids(queue: queues.DeskQueue) -> list[int]:
    return [row.id for row in queue.rows]


# --- the queues --------------------------------------------------------------------------------------------------


def test_the_district_desk_shows_the_longest_waiting_first_with_days_and_what_it_waits_for(cast, clock):
    first = _submitted(cast, name="甲")
    clock.advance(days=1)
    second = _submitted(cast, name="乙")
    clock.advance(days=2)
    third = _submitted(cast, name="丙")

    queue = _queue(cast.district_reviewer, now=MONDAY + dt.timedelta(days=5))
    assert _ids(queue) == [first, second, third]
    assert [row.waiting_days for row in queue.rows] == [5, 4, 2]
    assert queue.rows[0].waiting_since == MONDAY
    assert {row.waiting_for.code for row in queue.rows} == {"prereview"}
    assert queue.rows[0].waiting_for.label("zh") == "材料初审：核查并作出决定"
    assert (queue.total, queue.counts) == (3, {"desk": 3, "applicant": 0})
    assert _ids(_queue(cast.district_reviewer, order="asc")) == [third, second, first]
    assert _ids(_queue(cast.district_reviewer, per_page=2, page=2)) == [third]


def test_waiting_since_is_when_the_application_entered_its_state_again(cast, clock):
    app_id = _submitted(cast)
    clock.advance(days=3)
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "缺少签字页"})
    returned = _queue(cast.district_reviewer, waiting_on="applicant", now=clock.now)
    assert [(row.id, row.waiting_for.code, row.waiting_days) for row in returned.rows] == [
        (app_id, "applicant_correction", 0)
    ]
    clock.advance(days=2)
    fire(app_id, "resubmit", cast.applicant)
    (row,) = _queue(cast.district_reviewer, now=clock.now + dt.timedelta(days=1)).rows
    assert row.waiting_since == MONDAY + dt.timedelta(days=5)  # the resubmission, not the first submission
    assert (row.waiting_days, row.waiting_for.code) == (1, "prereview_again")


def test_another_district_sees_nothing_anywhere(client, cast):
    app_id = _submitted(cast)
    other = cast.other_district_reviewer
    assert _queue(other).rows == [] and _queue(other).counts == {"desk": 0, "applicant": 0}
    headers = bearer(client, other)
    assert client.get(f"{PREFIX}/desk", headers=headers).get_json()["items"] == []
    assert client.get(f"{PREFIX}/applications", headers=headers).get_json()["items"] == []
    for tail in ("", "/prereviews", "/completeness"):
        problem(client.get(f"{PREFIX}/applications/{app_id}{tail}", headers=headers), 404, "not_found")
    own = client.get(f"{PREFIX}/desk", headers=bearer(client, cast.district_reviewer)).get_json()
    assert [item["id"] for item in own["items"]] == [app_id]


def test_a_group_companys_reviewer_sees_its_member_units(client, cast):
    group = factories.make_org("group_company", None, name="上海某集团有限公司")
    member = factories.make_org("enterprise", "浦东新区", name="集团下属单位", group=group.id)
    outsider = factories.make_org("enterprise", "浦东新区", name="集团外单位")
    group_reviewer = factories.make_user("district_reviewer", organisation=group)
    ids = {}
    for org in (member, outsider):
        applicant = factories.make_user("applicant", organisation=org)
        form = {**sample_form("emc-acceptance", "enterprise"), "district": org.district}
        app = operations.create_application(applicant, "emc-acceptance", "enterprise", f"{org.name}项目", form)
        factories.attach_required(factories.flask_app(), cast, app.id, actor=applicant)
        fire(app.id, "submit", applicant)
        ids[org.name] = app.id

    assert _ids(_queue(group_reviewer)) == [ids["集团下属单位"]]
    assert _ids(_queue(cast.district_reviewer)) == []  # 闵行区 sees neither
    headers = bearer(client, group_reviewer)
    assert [i["id"] for i in client.get(f"{PREFIX}/desk", headers=headers).get_json()["items"]] == [ids["集团下属单位"]]
    assert client.get(f"{PREFIX}/applications/{ids['集团下属单位']}", headers=headers).status_code == 200
    problem(client.get(f"{PREFIX}/applications/{ids['集团外单位']}", headers=headers), 404, "not_found")


def test_filters_and_sorting_by_kind(cast, clock):
    park = _submitted(cast, "park")
    clock.advance(hours=1)
    enterprise = _submitted(cast, "enterprise")
    clock.advance(hours=1)
    data_centre = _submitted(cast, "data_centre")
    reviewer = cast.district_reviewer
    assert _ids(_queue(reviewer, kind="park")) == [park]
    assert _ids(_queue(reviewer, sort="kind", order="asc")) == [data_centre, enterprise, park]
    assert _ids(_queue(reviewer, sort="kind", order="desc")) == [park, enterprise, data_centre]
    assert _ids(_queue(reviewer, district="徐汇区")) == []
    assert _ids(_queue(reviewer, district="闵行区", sort="district")) == [park, enterprise, data_centre]
    assert _ids(_queue(reviewer, programme="monitoring-fund")) == []
    assert _queue(reviewer, kind="park").counts == {"desk": 1, "applicant": 0}


def test_bad_parameters_are_named(client, cast):
    with pytest.raises(InvalidInput) as refused:
        _queue(cast.district_reviewer, kind="farm", sort="size", per_page=500)
    assert {p.field for p in refused.value.problems} == {"kind", "sort", "per_page"}
    response = client.get(f"{PREFIX}/desk?kind=farm&waiting_on=nobody&page=x", headers=bearer(client, cast.admin))
    body = problem(response, 422, "invalid_input")
    assert {e["field"] for e in body["errors"]} == {"kind", "waiting_on", "page"}


def test_the_municipal_desk_and_the_supplements_it_waits_for(cast):
    checking = factories.new_application(cast)
    factories.drive_to(cast, checking, "completeness_check")
    waiting = factories.new_application(cast, kind="park")
    factories.drive_to(cast, waiting, "supplement_requested")
    reviewer = cast.municipal_reviewer

    desk = _queue(reviewer)
    assert [(row.id, row.waiting_for.code) for row in desk.rows] == [(checking, "completeness")]
    assert desk.counts == {"desk": 1, "applicant": 1}
    watched = _queue(reviewer, waiting_on="applicant")
    assert [(row.id, row.waiting_for.code) for row in watched.rows] == [(waiting, "applicant_supplement")]
    assert watched.rows[0].due_date is not None

    fire(waiting, "supply", cast.applicant, factories.payload_for("supply", waiting))
    codes = {row.id: row.waiting_for.code for row in _queue(reviewer).rows}
    assert codes == {checking: "completeness", waiting: "supplement_answered"}


def test_the_coordinator_sees_what_each_site_verification_needs_next(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    coordinator = cast.agency_coordinator

    def needs() -> tuple[str, dict[str, int]]:
        (row,) = _queue(coordinator).rows
        return row.waiting_for.code, row.waiting_for.params

    assert needs() == ("panel_to_draw", {})
    operations.assign(coordinator, app_id, cast.expert.id, leader=True)
    assert needs() == ("declarations_pending", {"pending": 1, "members": 1})
    factories.declare_clear(app_id, cast.expert.id)
    assert needs() == ("visit_to_schedule", {})
    from review import panels

    panels.schedule_visit(coordinator, app_id, dt.datetime.now(dt.UTC) + dt.timedelta(days=7), "申报单位能源中心")
    assert needs() == ("sheets_pending", {"pending": 1, "members": 1})
    factories.score_sheet(cast.expert, app_id)
    assert needs() == ("conclusion", {})


def test_an_expert_sees_undeclared_assignments_only_by_name(client, cast):
    app_id = factories.new_application(cast, project_name="待声明项目")
    factories.drive_to(cast, app_id, "site_verification")
    operations.assign(cast.agency_coordinator, app_id, cast.expert.id, leader=True)

    queue = _queue(cast.expert)
    assert queue.rows == []  # the file is closed until the declaration
    (undeclared,) = queue.undeclared
    assert (undeclared.project_name, undeclared.organisation, undeclared.district) == (
        "待声明项目",
        cast.org.name,
        "闵行区",
    )
    body = client.get(f"{PREFIX}/desk", headers=bearer(client, cast.expert)).get_json()
    assert body["items"] == []
    assert set(body["undeclared"][0]) == {"project_name", "organisation", "district", "assigned_at"}
    assert _queue(cast.expert2).undeclared == []  # someone else's assignment

    factories.declare_clear(app_id, cast.expert.id)
    queue = _queue(cast.expert)
    assert queue.undeclared == [] and [(r.id, r.waiting_for.code) for r in queue.rows] == [(app_id, "your_sheet")]
    factories.score_sheet(cast.expert, app_id)
    assert _queue(cast.expert).rows[0].waiting_for.code == "your_conclusion"


def test_finance_waits_for_a_second_officer_on_its_own_proposal(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    assert _queue(cast.finance_officer).rows[0].waiting_for.code == "award_to_propose"
    fire(app_id, "propose_award", cast.finance_officer, {"amount": factories.rule_award(app_id)})
    assert _queue(cast.finance_officer).rows[0].waiting_for.code == "award_proposed_by_you"
    assert _queue(cast.finance_officer2).rows[0].waiting_for.code == "award_to_review"
    fire(app_id, "approve_award", cast.finance_officer2)
    assert _queue(cast.finance_officer).rows[0].waiting_for.code == "payment_to_record"


def test_the_metering_institute_and_the_regulator_have_their_programmes_desks(cast):
    app_id = factories.new_application(cast, programme="monitoring-fund")
    factories.drive_to(cast, app_id, "technical_review")
    assert [(r.id, r.waiting_for.code) for r in _queue(cast.monitoring_reviewer).rows] == [(app_id, "technical_review")]
    assert _queue(cast.market_regulator).rows == []
    factories.drive_to(cast, app_id, "regulator_approval")
    assert [r.id for r in _queue(cast.market_regulator).rows] == [app_id]
    assert _queue(cast.monitoring_reviewer).rows == []


def test_a_role_without_a_desk_gets_an_empty_queue(cast):
    _submitted(cast)  # visible to both, yet on neither's desk
    for user in (cast.applicant, cast.auditor):
        queue = _queue(user)
        assert (queue.has_desk, queue.rows, queue.counts) == (False, [], {})


# --- decisions over the API, and the records they leave ---------------------------------------------------------


def _fire(client: Any, user: Any, app_id: int, trigger: str, payload: dict[str, Any], comment: str | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"trigger": trigger, "payload": payload}
    if comment is not None:
        body["comment"] = comment
    return client.post(f"{PREFIX}/applications/{app_id}/transitions", json=body, headers=bearer(client, user))


def test_prereview_decisions_and_records_over_the_api(client, cast, document):
    conform = Conformance(document)
    app_id = _submitted(cast)
    refused = _fire(client, cast.district_reviewer, app_id, "pass_prereview", {"checks": {"form_authenticity": "ok"}})
    errors = {(e["field"], e["code"]) for e in problem(refused, 422, "guard_failed")["errors"]}
    assert ("checks.legal_entity", "not_checked") in errors
    returned = _fire(
        client,
        cast.district_reviewer,
        app_id,
        "return_for_correction",
        {"points": ["缺少法定代表人签字页"], "checks": {"form_authenticity": "problem"}},
        comment="请补正",
    )
    assert returned.status_code == 200 and returned.get_json()["state"] == "returned"
    fire(app_id, "resubmit", cast.applicant)
    passed = _fire(client, cast.district_reviewer, app_id, "pass_prereview", factories.PREREVIEW_OK)
    assert passed.get_json()["state"] == "completeness_check"

    url = f"{PREFIX}/applications/{app_id}/prereviews"
    reviewer_view = client.get(url, headers=bearer(client, cast.district_reviewer))
    conform.check(reviewer_view, "/applications/{application_id}/prereviews", "get")
    records = reviewer_view.get_json()["items"]
    assert [r["decision"] for r in records] == ["return_for_correction", "pass_prereview"]
    assert records[0]["checks"]["form_authenticity"] == "problem"
    assert records[0]["points"] == ["缺少法定代表人签字页"] and records[0]["opinion"] == "请补正"
    assert records[1]["reviewer"] == cast.district_reviewer.username

    applicant_view = client.get(url, headers=bearer(client, cast.applicant))
    conform.check(applicant_view, "/applications/{application_id}/prereviews", "get")
    (told,) = applicant_view.get_json()["items"]
    assert set(told) == {"decision", "decision_label", "opinion", "points", "created_at"}
    assert told["points"] == ["缺少法定代表人签字页"]
    assert told["decision_label"] == {"zh": "退回修改", "en": "Return for correction"}


def test_completeness_over_the_api(client, cast, document, clock, golden_week):
    conform = Conformance(document)
    app_id = factories.new_application(cast, kind="data_centre")
    factories.drive_to(cast, app_id, "completeness_check")
    url = f"{PREFIX}/applications/{app_id}/completeness"
    reviewer = bearer(client, cast.municipal_reviewer)

    before = client.get(url, headers=reviewer)
    conform.check(before, "/applications/{application_id}/completeness", "get")
    body = before.get_json()
    by_id = {item["id"]: item for item in body["checklist"]}
    assert by_id["special_audit_report"]["why"]["zh"].startswith("项目总投资")
    assert by_id["special_audit_report"]["attachment"]["download_url"].endswith("/download")
    platform = by_id["dc_platform_confirmation"]  # @2: the upload proves the connection (seed 002 §四(二)(2))
    assert platform["present"] is True and platform["attachment"]["download_url"].endswith("/download")
    assert platform["text"]["zh"].startswith("接入市经济信息化委“上海市数据中心能耗在线监测平台”")
    assert "data_centre_platform" not in by_id
    assert (body["latest_review"], body["supplement_requests"]) == (None, [])
    assert body["default_due_date"] == "2027-10-15"

    documents = {"special_audit_report": {"status": "insufficient", "note": "未盖章"}}
    requested = _fire(
        client,
        cast.municipal_reviewer,
        app_id,
        "request_supplement",
        {"items": ["审计报告盖章版"], "documents": documents},
    )
    assert requested.get_json()["state"] == "supplement_requested"
    fire(app_id, "supply", cast.applicant, {"answers": {"1": "已上传盖章版"}})

    after = client.get(url, headers=reviewer)
    conform.check(after, "/applications/{application_id}/completeness", "get")
    body = after.get_json()
    assert body["latest_review"]["decision"] == "request_supplement"
    marked = next(i for i in body["latest_review"]["items"] if i["id"] == "special_audit_report")
    assert (marked["status"], marked["note"]) == ("insufficient", "未盖章")
    (request,) = body["supplement_requests"]
    assert request["due_date"] == "2027-10-15"
    assert request["items"] == [{"id": "1", "text": "审计报告盖章版", "answer": "已上传盖章版"}]

    applicant_view = client.get(url, headers=bearer(client, cast.applicant))
    conform.check(applicant_view, "/applications/{application_id}/completeness", "get")
    assert applicant_view.get_json()["latest_review"] is None  # the reviewer's working notes stay inside
    assert applicant_view.get_json()["supplement_requests"][0]["items"][0]["answer"] == "已上传盖章版"


def test_desk_api_matches_its_documentation(client, cast, document):
    conform = Conformance(document)
    _submitted(cast)
    for user in (cast.district_reviewer, cast.applicant):
        conform.check(client.get(f"{PREFIX}/desk", headers=bearer(client, user)), "/desk", "get")
    bad = client.get(f"{PREFIX}/desk?sort=size", headers=bearer(client, cast.district_reviewer))
    conform.check(bad, "/desk", "get")
    (row,) = client.get(f"{PREFIX}/desk", headers=bearer(client, cast.district_reviewer)).get_json()["items"]
    assert row["waiting_for"]["label"] == {"zh": "材料初审：核查并作出决定", "en": "Pre-review: check and decide"}
    assert row["state_label"]["zh"] == "区主管部门初审中"


# --- the supplement's default due date and its lapse, on a frozen clock -------------------------------------------


def test_a_supplement_without_a_date_is_due_in_ten_working_days_and_lapses_just_after(cast, clock, golden_week):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    fire(app_id, "request_supplement", cast.municipal_reviewer, {"items": ["专项审计报告盖章版"]})

    # From Monday 27 September: 28, 29, 30 September, 8, 9 (a Saturday worked), 11, 12, 13, 14, 15 October.
    with db.transaction() as session:
        request = session.scalars(select(SupplementRequest).where(SupplementRequest.application_id == app_id)).one()
        assert request.due_date == dt.date(2027, 10, 15)
        (deadline,) = session.scalars(select(Deadline).where(Deadline.application_id == app_id))
        due_at = as_utc(deadline.due_at)
    assert due_at == dt.datetime(2027, 10, 16, tzinfo=dt.UTC) - SHANGHAI_OFFSET  # midnight ending the 15th
    (row,) = _queue(cast.municipal_reviewer, waiting_on="applicant").rows
    assert row.due_date == dt.date(2027, 10, 15)

    assert deadlines.fire_due(now=due_at - dt.timedelta(seconds=1)) == []
    assert factories.state_of(app_id)[0] == "supplement_requested"
    (outcome,) = deadlines.fire_due(now=due_at + dt.timedelta(seconds=1))
    assert (outcome.application_id, outcome.trigger, outcome.state) == (app_id, "lapse", "lapsed")
    assert factories.state_of(app_id)[0] == "lapsed"


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get(f"{PREFIX}/openapi.json").get_json()  # type: ignore[no-any-return]
