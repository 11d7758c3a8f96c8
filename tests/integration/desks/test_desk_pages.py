"""The desk page and the two decision cards: what each reviewer sees, what they post, what the applicant is told."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select

from applications.models import Attachment
from forms.samples import sample_form
from review import prereview
from review.models import PreReview, SupplementRequest
from tests import factories
from tests.support.pages import log_in, state_badge
from tests.support.pages import text_of as tagless
from workflow import operations
from workflow.db import db, utcnow
from workflow.engine import fire

KINDS = ("enterprise", "data_centre", "park")
ALL_OK = {f"check_{name}": "ok" for name in prereview.CHECKS}


def _submitted(cast: factories.Cast, kind: str = "enterprise", name: str = "能源管理中心建设项目") -> int:
    app_id = factories.new_application(cast, kind=kind, project_name=name)
    factories.drive_to(cast, app_id, "district_review")
    return app_id


def _card(client: Any, app_id: int, card: str, trigger: str, data: dict[str, str]) -> Any:
    """Post the card's one form with the button for `trigger` (its inputs carry the card's name as prefix)."""
    body = {f"{card}-expected_version": str(factories.state_of(app_id)[1])}
    body.update({f"{card}-{name}": value for name, value in data.items()})
    return client.post(f"/applications/{app_id}/transitions/{trigger}", data=body)


def _records(app_id: int) -> list[PreReview]:
    with db.transaction() as session:
        return list(session.scalars(select(PreReview).where(PreReview.application_id == app_id).order_by(PreReview.id)))


def _section(response: Any, section_id: str) -> str:
    found = re.search(rf'<section class="card" id="{section_id}".*?</section>', response.text, re.S)
    assert found, f"no #{section_id} card on the page"
    return html.unescape(found.group(0))


def text_of(response: Any) -> str:
    return html.unescape(tagless(response))


def checked(card: str, name: str) -> str | None:
    """The value of the radio button `name` that is checked."""
    found = re.search(rf'<input checked id="[^"]+" name="{name}" type="radio" value="([^"]+)">', card)
    return found.group(1) if found else None


# --- the desk page -------------------------------------------------------------------------------------------------


def test_the_desk_lists_what_waits_for_the_district_and_nothing_of_another(app, cast):
    app_id = _submitted(cast, name="闵行能源中心项目")
    own = log_in(app, cast.district_reviewer, lang="en").get("/desk")
    assert own.status_code == 200
    assert f'href="/applications/{app_id}"' in own.text
    text = text_of(own)
    assert "闵行能源中心项目" in text and "Pre-review: check and decide" in text and "0 days" in text

    other = log_in(app, cast.other_district_reviewer, lang="en")
    assert "闵行能源中心项目" not in other.get("/desk").text
    assert "Nothing is waiting here." in text_of(other.get("/desk"))
    assert "闵行能源中心项目" not in other.get("/applications").text
    assert other.get(f"/applications/{app_id}").status_code == 404


def test_a_group_companys_reviewer_reaches_its_member_units_on_the_pages(app, cast):
    group = factories.make_org("group_company", None, name="上海某集团有限公司")
    member = factories.make_org("enterprise", "浦东新区", name="集团下属单位", group=group.id)
    applicant = factories.make_user("applicant", organisation=member)
    form = {**sample_form("emc-acceptance", "park"), "district": "浦东新区"}
    created = operations.create_application(applicant, "emc-acceptance", "park", "集团园区项目", form)
    factories.attach_required(factories.flask_app(), cast, created.id, actor=applicant)
    fire(created.id, "submit", applicant)

    reviewer = log_in(app, factories.make_user("district_reviewer", organisation=group), lang="en")
    assert "集团园区项目" in reviewer.get("/desk").text
    page = reviewer.get(f"/applications/{created.id}")
    assert page.status_code == 200 and 'id="prereview"' in page.text
    assert log_in(app, cast.district_reviewer).get(f"/applications/{created.id}").status_code == 404


def test_filters_and_sorting_come_from_the_query_and_bad_values_fall_back(app, cast):
    park = _submitted(cast, "park", "园区项目")
    enterprise = _submitted(cast, "enterprise", "企业项目")
    client = log_in(app, cast.district_reviewer, lang="en")
    only_parks = client.get("/desk?kind=park")
    assert "园区项目" in only_parks.text and "企业项目" not in only_parks.text
    assert '<option value="park" selected>' in only_parks.text
    by_kind = client.get("/desk?sort=kind&order=asc")
    order = re.findall(r'<li class="card application" data-id="(\d+)"', by_kind.text)
    assert order == [str(enterprise), str(park)]
    fallback = client.get("/desk?kind=farm&sort=size&page=x")
    assert fallback.status_code == 200
    assert "园区项目" in fallback.text and "企业项目" in fallback.text


def test_the_municipal_desk_keeps_a_list_of_what_waits_for_the_applicant(app, cast):
    checking = factories.new_application(cast, project_name="待审核项目")
    factories.drive_to(cast, checking, "completeness_check")
    waiting = factories.new_application(cast, kind="data_centre", project_name="待补充项目")
    factories.drive_to(cast, waiting, "supplement_requested")
    client = log_in(app, cast.municipal_reviewer, lang="en")

    desk = client.get("/desk")
    assert "待审核项目" in desk.text and "待补充项目" not in desk.text
    assert "Waiting for me (1)" in text_of(desk) and "Waiting for the applicant (1)" in text_of(desk)
    watched = client.get("/desk?waiting_on=applicant")
    assert "待补充项目" in watched.text and "The applicant's supplement" in text_of(watched)
    assert "by " in text_of(watched)  # the deadline's last day


def test_an_expert_sees_undeclared_assignments_by_name_only(app, cast):
    app_id = factories.new_application(cast, project_name="待声明项目")
    factories.drive_to(cast, app_id, "site_verification")
    operations.assign(cast.agency_coordinator, app_id, cast.expert.id, leader=True)
    page = log_in(app, cast.expert, lang="en").get("/desk")
    block = re.search(r'<section class="card notice" id="undeclared".*?</section>', page.text, re.S)
    assert block and "待声明项目" in block.group(0) and cast.org.name in block.group(0)
    assert 'href="/assignments"' in block.group(0)
    assert f"/applications/{app_id}" not in page.text


def test_a_role_without_a_desk_is_told_so(app, cast):
    page = log_in(app, cast.applicant, lang="en").get("/desk")
    assert page.status_code == 200 and "Your role has no review desk." in text_of(page)


def test_the_desk_needs_a_login(client):
    response = client.get("/desk")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the pre-review card --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_card_offers_the_checks_and_three_decisions_and_a_pass_moves_it_on(app, cast, kind):
    app_id = _submitted(cast, kind)
    client = log_in(app, cast.district_reviewer, lang="en")
    page = client.get(f"/applications/{app_id}")
    card = _section(page, "prereview")
    for name in prereview.CHECKS:
        for finding in prereview.FINDINGS:
            assert f'name="prereview-check_{name}" type="radio" value="{finding}"' in card
        assert checked(card, f"prereview-check_{name}") == "not_checked"
    for trigger in ("pass_prereview", "return_for_correction", "reject"):
        assert f'formaction="/applications/{app_id}/transitions/{trigger}"' in card
    # The decisions are on the card only, not offered again below it.
    assert 'aria-label="Pass pre-review"' not in page.text and "return_for_correction-comment" not in page.text

    done = _card(client, app_id, "prereview", "pass_prereview", {**ALL_OK, "opinion": "材料真实，同意上报"})
    assert done.status_code == 303
    assert factories.state_of(app_id)[0] == "completeness_check"
    (record,) = _records(app_id)
    assert record.checks == dict.fromkeys(prereview.CHECKS, "ok") and record.opinion == "材料真实，同意上报"


def test_a_refused_pass_shows_the_reasons_beside_the_checks_and_keeps_the_input(app, cast):
    app_id = _submitted(cast)
    client = log_in(app, cast.district_reviewer, lang="en")
    data = {**ALL_OK, "check_legal_entity": "not_checked", "check_finances": "problem", "opinion": "财务存疑"}
    response = _card(client, app_id, "prereview", "pass_prereview", data)
    assert response.status_code == 422
    card = _section(response, "prereview")
    assert 'id="prereview-check_legal_entity-error"><p>Legal-entity status was not checked' in card
    assert 'id="prereview-check_finances-error"><p>Economic situation was found wanting' in card
    assert checked(card, "prereview-check_finances") == "problem"
    assert checked(card, "prereview-check_operations") == "ok"
    assert "财务存疑</textarea>" in card
    assert "“Pass pre-review” was not done" in text_of(response)
    assert factories.state_of(app_id)[0] == "district_review"


def test_a_return_tells_the_applicant_the_points_but_not_the_checks(app, cast):
    app_id = _submitted(cast, "data_centre")
    reviewer = log_in(app, cast.district_reviewer, lang="en")
    data = {
        **ALL_OK,
        "check_form_authenticity": "problem",
        "opinion": "申请表不完整",
        "points": "补充法定代表人签字页\n\n审计报告加盖公章\n",
    }
    assert _card(reviewer, app_id, "prereview", "return_for_correction", data).status_code == 303
    assert factories.state_of(app_id)[0] == "returned"
    (record,) = _records(app_id)
    assert record.points == ["补充法定代表人签字页", "审计报告加盖公章"] and record.opinion == "申请表不完整"
    assert record.checks["form_authenticity"] == "problem"

    applicant_page = log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}")
    card = _section(applicant_page, "prereview")
    assert "What the district authority told you" in card
    assert "<li>补充法定代表人签字页</li>" in card and "申请表不完整" in card
    assert "finding-problem" not in card and "<form" not in card
    assert state_badge(applicant_page) == "Returned for correction"

    reviewer_card = _section(reviewer.get(f"/applications/{app_id}"), "prereview")
    assert 'finding finding-problem">Problem found' in reviewer_card  # the district keeps its own record


def test_a_reject_needs_reasons_and_asks_for_them_beside_the_points(app, cast):
    app_id = _submitted(cast, "park")
    client = log_in(app, cast.district_reviewer, lang="en")
    refused = _card(client, app_id, "prereview", "reject", dict(ALL_OK))
    assert refused.status_code == 422
    assert 'id="prereview-points-error"><p>Please fill in: Points to correct, or reasons' in refused.text
    done = _card(client, app_id, "prereview", "reject", {**ALL_OK, "points": "项目未完成竣工验收"})
    assert done.status_code == 303 and factories.state_of(app_id)[0] == "rejected"
    assert _records(app_id)[0].points == ["项目未完成竣工验收"]


def test_other_readers_see_the_records_but_no_form(app, cast):
    app_id = _submitted(cast)
    fire(app_id, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK)
    card = _section(log_in(app, cast.municipal_reviewer, lang="en").get(f"/applications/{app_id}"), "prereview")
    assert "Pre-review records" in card and "<form" not in card and "In order" in card
    applicant_page = log_in(app, cast.applicant).get(f"/applications/{app_id}")
    assert 'id="prereview"' not in applicant_page.text  # a pass tells the applicant nothing to correct


# --- the completeness card -----------------------------------------------------------------------------------------


def _at_check(cast: factories.Cast, kind: str) -> int:
    app_id = factories.new_application(cast, kind=kind)
    factories.drive_to(cast, app_id, "completeness_check")
    return app_id


@pytest.mark.parametrize("kind", KINDS)
def test_the_checklist_shows_each_document_with_its_download_and_the_facts_that_require_it(app, cast, kind):
    app_id = _at_check(cast, kind)
    page = log_in(app, cast.municipal_reviewer, lang="en").get(f"/applications/{app_id}")
    card = _section(page, "completeness")
    with db.transaction() as session:
        audit = session.scalars(
            select(Attachment).where(Attachment.application_id == app_id, Attachment.category == "special_audit_report")
        ).one()
    assert f'href="/attachments/{audit.id}/download"' in card
    assert "Required because: total investment 180.00 万元 reaches 100 万元" in card
    assert checked(card, "completeness-doc_business_licence") == "present"
    # From @2 a data centre's platform connection is a document on the list (seed 002 §四(二)(2)), not a form tick.
    assert ('data-item="dc_platform_confirmation"' in card) is (kind == "data_centre")
    assert "data_centre_platform" not in card
    assert 'id="due-hint">Left empty: 10 working days, until' in card
    for trigger in ("confirm_complete", "request_supplement", "reject"):
        assert f'formaction="/applications/{app_id}/transitions/{trigger}"' in card
    assert "request_supplement-items" not in page.text  # not offered a second time below the card


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_made_from_the_marks_and_the_answers_shown_against_the_documents(app, cast, kind):
    app_id = _at_check(cast, kind)
    reviewer = log_in(app, cast.municipal_reviewer, lang="en")
    data = {
        "doc_special_audit_report": "insufficient",
        "note_special_audit_report": "未加盖事务所公章",
        "label_special_audit_report": "会计师事务所专项审计报告",
        "doc_business_licence": "present",
        "label_business_licence": "营业执照扫描件",
        "items": "",  # left empty: the marks decide
        "due_date": "",  # left empty: the programme's default
    }
    assert _card(reviewer, app_id, "completeness", "request_supplement", data).status_code == 303
    with db.transaction() as session:
        request = session.scalars(select(SupplementRequest).where(SupplementRequest.application_id == app_id)).one()
        assert request.items == [{"id": "special_audit_report", "text": "会计师事务所专项审计报告：未加盖事务所公章"}]
        assert request.due_date > utcnow().date()

    applicant = log_in(app, cast.applicant, lang="en")
    supplying = applicant.get(f"/applications/{app_id}")
    assert "会计师事务所专项审计报告：未加盖事务所公章" in supplying.text
    body = {"supply-expected_version": str(factories.state_of(app_id)[1]), "supply-answer_0": "已上传盖章版"}
    assert applicant.post(f"/applications/{app_id}/transitions/supply", data=body).status_code == 303

    card = _section(reviewer.get(f"/applications/{app_id}"), "completeness")
    answer = re.search(r'data-item="special_audit_report".*?</li>', card, re.S)
    assert answer and "The applicant's answer:</strong> 已上传盖章版" in answer.group(0)
    assert "Supplement requests" in card and "已上传盖章版" in card


def test_the_items_are_prefilled_with_the_documents_not_on_file_and_confirm_is_refused(app, cast):
    app_id = _at_check(cast, "enterprise")
    with db.transaction() as session:
        row = session.scalars(
            select(Attachment).where(Attachment.application_id == app_id, Attachment.category == "equipment_list")
        ).one()
        row.superseded_at = utcnow()  # taken off file
    reviewer = log_in(app, cast.municipal_reviewer, lang="en")
    card = _section(reviewer.get(f"/applications/{app_id}"), "completeness")
    equipment = (
        "用于能源管理中心信息化管理及控制系统设备清单（包括：名称、型号规格、生产厂家、安装地点等）"  # 附件2 附件：2
    )
    assert re.search(rf'name="completeness-items"[^>]*>\s*{re.escape(equipment)}</textarea>', card)
    assert checked(card, "completeness-doc_equipment_list") == "missing"

    refused = _card(reviewer, app_id, "completeness", "confirm_complete", {"doc_equipment_list": "missing"})
    assert refused.status_code == 422
    shown = _section(refused, "completeness")
    assert f'id="completeness-doc_equipment_list-error"><p>缺少必需附件：{equipment}' in shown
    assert f"<p>“{equipment}”在审核清单中标为“缺失”" in shown  # the mark itself contradicts the decision too
    assert factories.state_of(app_id)[0] == "completeness_check"


def test_confirm_complete_over_a_document_marked_insufficient_is_refused_beside_it(app, cast):
    """Issue 9 (7a): the card's own marks may not be contradicted by 材料完备; the words are 缺失 / 不符合要求."""
    app_id = _at_check(cast, "enterprise")  # every document on file
    reviewer = log_in(app, cast.municipal_reviewer)
    card = _section(reviewer.get(f"/applications/{app_id}"), "completeness")
    assert re.search(r'value="missing"> <span>缺失</span>', card)
    assert re.search(r'value="insufficient"> <span>不符合要求</span>', card)

    data = {"doc_completion_report": "insufficient", "note_completion_report": "未盖章"}
    refused = _card(reviewer, app_id, "completeness", "confirm_complete", data)
    assert refused.status_code == 422
    shown = _section(refused, "completeness")
    assert 'id="completeness-doc_completion_report-error"><p>“项目竣工验收报告”在审核清单中标为“不符合要求”' in shown
    assert checked(shown, "completeness-doc_completion_report") == "insufficient"  # the input is kept
    assert factories.state_of(app_id)[0] == "completeness_check"
    assert _card(reviewer, app_id, "completeness", "confirm_complete", {}).status_code == 303
    assert factories.state_of(app_id)[0] == "site_verification"


def test_a_bad_due_date_is_shown_beside_the_date(app, cast):
    app_id = _at_check(cast, "park")
    reviewer = log_in(app, cast.municipal_reviewer, lang="en")
    refused = _card(
        reviewer, app_id, "completeness", "request_supplement", {"items": "设备清单", "due_date": "2020-01-01"}
    )
    assert refused.status_code == 422
    assert 'id="completeness-due_date-error"><p>The date must be after today.' in _section(refused, "completeness")
    assert "设备清单</textarea>" in _section(refused, "completeness")


def test_reject_from_the_card_needs_the_reasons(app, cast):
    app_id = _at_check(cast, "data_centre")
    reviewer = log_in(app, cast.municipal_reviewer, lang="en")
    refused = _card(reviewer, app_id, "completeness", "reject", {})
    assert refused.status_code == 422 and 'id="completeness-comment-error"' in refused.text
    assert _card(reviewer, app_id, "completeness", "reject", {"comment": "申报材料不实"}).status_code == 303
    assert factories.state_of(app_id)[0] == "rejected"


def test_the_applicant_sees_requests_and_answers_but_not_the_reviewers_notes(app, cast):
    app_id = _at_check(cast, "enterprise")
    documents = {"special_audit_report": {"status": "insufficient", "note": "内部备注：疑似复印件"}}
    fire(app_id, "request_supplement", cast.municipal_reviewer, {"items": ["审计报告原件扫描"], "documents": documents})
    card = _section(log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}"), "completeness")
    assert "审计报告原件扫描" in card and "not answered yet" in card
    assert "内部备注" not in card and "<form" not in card
