"""Completeness check: the per-document checklist from the application's facts, and the three decisions on it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from applications.models import Attachment
from forms.samples import sample_form
from review import completeness
from review.models import CompletenessReview, SupplementRequest
from tests import factories
from workflow import workdays
from workflow.db import db, utcnow
from workflow.engine import fire
from workflow.errors import GuardFailed
from workflow.models import Application, ProgrammeVersion
from workflow.visibility import get_visible


def _at_check(cast: factories.Cast, kind: str = "enterprise") -> int:
    app_id = factories.new_application(cast, kind=kind)
    factories.drive_to(cast, app_id, "completeness_check")
    return app_id


def _checklist(cast: factories.Cast, app_id: int) -> list[dict]:
    with db.transaction() as session:
        app = get_visible(session, cast.municipal_reviewer, app_id)
        assert app is not None
        return completeness.document_checklist(session, app, factories.definition_of(app_id))


def _reviews(app_id: int) -> list[CompletenessReview]:
    with db.transaction() as session:
        query = select(CompletenessReview).where(CompletenessReview.application_id == app_id)
        return list(session.scalars(query.order_by(CompletenessReview.id)))


def _problems(error: GuardFailed) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


def test_the_special_audit_report_is_required_from_100_wan_and_says_why(cast):
    items = {item["id"]: item for item in _checklist(cast, _at_check(cast))}
    audit = items["special_audit_report"]  # the sample form's total investment is 180 万元
    assert audit["present"] and audit["attachment_id"] is not None and audit["version"] == 1
    assert audit["why"] == "项目总投资 180.00 万元，达到 100 万元"
    assert "100" in audit["why_en"]
    assert items["business_licence"]["why"] == ""
    assert all(item["present"] for item in items.values())


def test_a_data_centre_shows_its_platform_confirmation_as_a_document(cast):
    """Seed 002 §四(二)(2): on @2 the platform connection is proved by an upload, not by the form's tick."""
    items = {item["id"]: item for item in _checklist(cast, _at_check(cast, "data_centre"))}
    platform = items["dc_platform_confirmation"]
    assert platform["present"] and platform["attachment_id"] is not None
    assert platform["text"].startswith("接入市经济信息化委“上海市数据中心能耗在线监测平台”")
    assert "数据中心的能源管理中心须完成接入" in platform["why"]
    assert completeness.DATA_CENTRE_PLATFORM not in items


def _pinned_to_v1(cast: factories.Cast, kind: str) -> int:
    """An application in flight on emc-acceptance@1 (its form @1, its documents), at the completeness check."""
    app_id = factories.new_application(cast, kind=kind, attach=False)
    with db.transaction() as session:
        v1 = session.scalars(
            select(ProgrammeVersion).where(ProgrammeVersion.code == "emc-acceptance", ProgrammeVersion.version == 1)
        ).one()
        app = session.get(Application, app_id)
        assert app is not None
        app.programme_version_id = v1.id
        form = sample_form("emc-acceptance", kind, form="emc-acceptance-form@1")
        app.form = {**form, "district": cast.org.district}
    factories.attach_required(factories.flask_app(), cast, app_id)
    factories.drive_to(cast, app_id, "completeness_check")
    return app_id


def test_a_data_centre_on_version_1_keeps_the_tick_on_its_form(cast):
    app_id = _pinned_to_v1(cast, "data_centre")
    assert factories.definition_of(app_id).label == "emc-acceptance@1"
    items = {item["id"]: item for item in _checklist(cast, app_id)}
    platform = items[completeness.DATA_CENTRE_PLATFORM]
    assert platform["present"] is True  # declared connected on the form; nothing to upload
    assert platform["attachment_id"] is None
    assert "已声明接入" in platform["why"]
    assert "dc_platform_confirmation" not in items


def test_a_park_has_no_platform_item(cast):
    ids = [item["id"] for item in _checklist(cast, _at_check(cast, "park"))]
    assert completeness.DATA_CENTRE_PLATFORM not in ids
    assert "business_licence" in ids


def test_confirm_complete_records_each_documents_status(cast):
    app_id = _at_check(cast)
    documents = {"business_licence": {"status": "present", "note": "清晰"}}
    assert fire(app_id, "confirm_complete", cast.municipal_reviewer, {"documents": documents}).state == (
        "site_verification"
    )
    (review,) = _reviews(app_id)
    assert review.decision == "confirm_complete"
    by_id = {item["id"]: item for item in review.items}
    assert (by_id["business_licence"]["status"], by_id["business_licence"]["note"]) == ("present", "清晰")
    assert by_id["special_audit_report"]["status"] == "present"  # not marked: what is on file
    assert [item["id"] for item in review.items] == [item["id"] for item in _checklist(cast, app_id)]


def test_confirm_complete_is_refused_while_a_required_document_is_missing(cast):
    app_id = _at_check(cast)
    with db.transaction() as session:
        # The audit report taken off file (say, found unreadable): no current version is left.
        row = session.scalars(
            select(Attachment).where(Attachment.application_id == app_id, Attachment.category == "special_audit_report")
        ).one()
        row.superseded_at = utcnow()
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "confirm_complete", cast.municipal_reviewer, {})
    assert _problems(refused.value) == {("special_audit_report", "attachment_missing")}
    assert "180.00 万元" in refused.value.detail
    assert factories.state_of(app_id)[0] == "completeness_check"
    assert _reviews(app_id) == []


@pytest.mark.parametrize(("status", "word"), [("missing", "缺失"), ("insufficient", "不符合要求")])
def test_confirm_complete_is_refused_while_the_reviewers_checklist_marks_an_item_wanting(cast, status, word):
    """Issue 9 (7a): 材料完备 may not contradict the reviewer's own record: one problem per item marked wanting."""
    app_id = _at_check(cast)  # every document on file
    documents = {
        "business_licence": {"status": "present"},
        "equipment_list": {"status": status, "note": "缺少安装地点"},
        "special_audit_report": {"status": status},
    }
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "confirm_complete", cast.municipal_reviewer, {"documents": documents})
    assert _problems(refused.value) == {
        ("documents.equipment_list", f"marked_{status}"),
        ("documents.special_audit_report", f"marked_{status}"),
    }
    audit = next(p for p in refused.value.problems if p.field == "documents.special_audit_report")
    assert f"“会计师事务所出具的专项审计报告”在审核清单中标为“{word}”" in audit.message
    assert factories.state_of(app_id)[0] == "completeness_check"
    assert _reviews(app_id) == []

    documents = {item: {"status": "present"} for item in documents}
    assert fire(app_id, "confirm_complete", cast.municipal_reviewer, {"documents": documents}).state == (
        "site_verification"
    )


def test_a_request_may_say_what_is_wanting(cast):
    """Marking an item wanting is what a supplement request is for: only confirming complete is refused."""
    app_id = _at_check(cast)
    payload = {"items": ["设备清单"], "documents": {"equipment_list": {"status": "missing"}}}
    assert fire(app_id, "request_supplement", cast.municipal_reviewer, payload).state == "supplement_requested"


@pytest.mark.parametrize(
    ("documents", "problem"),
    [
        ({"business_licence": {"status": "lost"}}, ("documents.business_licence.status", "invalid_status")),
        ({"weather_report": {"status": "present"}}, ("documents.weather_report", "unknown_item")),
        (["business_licence"], ("documents", "invalid")),
    ],
    ids=["bad-status", "unknown-item", "not-a-mapping"],
)
def test_malformed_documents_are_named(cast, documents, problem):
    app_id = _at_check(cast)
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "request_supplement", cast.municipal_reviewer, {"items": ["审计报告"], "documents": documents})
    assert problem in _problems(refused.value)


def test_a_request_records_the_marks_beside_the_items(cast):
    app_id = _at_check(cast)
    documents = {"special_audit_report": {"status": "insufficient", "note": "未盖章"}}
    payload = {"items": ["会计师事务所专项审计报告：未盖章"], "documents": documents}
    assert fire(app_id, "request_supplement", cast.municipal_reviewer, payload).state == "supplement_requested"
    (review,) = _reviews(app_id)
    marked = next(item for item in review.items if item["id"] == "special_audit_report")
    assert (review.decision, marked["status"], marked["note"]) == ("request_supplement", "insufficient", "未盖章")
    with db.transaction() as session:
        assert [r.items for r in completeness.supplement_requests(session, app_id)] == [
            [{"id": "1", "text": "会计师事务所专项审计报告：未盖章"}]
        ]
        latest = completeness.latest_review(session, app_id)
        assert latest is not None and latest.id == review.id


def test_reject_needs_the_reasons_and_records_the_checklist(cast):
    app_id = _at_check(cast)
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "reject", cast.municipal_reviewer, {})
    assert _problems(refused.value) == {("comment", "required")}
    assert fire(app_id, "reject", cast.municipal_reviewer, {"comment": "材料不实"}).state == "rejected"
    assert [r.decision for r in _reviews(app_id)] == ["reject"]


def test_the_default_due_date_counts_working_days_in_shanghai(cast):
    saved = (set(workdays.HOLIDAYS), set(workdays.WORKING_WEEKENDS))
    workdays.configure()  # no holidays: weekends alone are skipped
    try:
        _check_default_due_date(cast)
    finally:
        workdays.configure(*saved)


def _check_default_due_date(cast: factories.Cast) -> None:
    definition = factories.definition_of(_at_check(cast))
    state = completeness.supplement_state(definition)
    assert state == "supplement_requested"
    # Monday 27 September 2027, 23:30 in Shanghai (15:30 UTC): ten working days on is Monday 11 October.
    now = dt.datetime(2027, 9, 27, 15, 30, tzinfo=dt.UTC)
    assert completeness.default_due_date(definition, state, now) == dt.date(2027, 10, 11)
    assert completeness.default_due_date(definition, "district_review", now) is None


def test_supply_answers_are_kept_with_the_request(cast):
    app_id = _at_check(cast)
    fire(app_id, "request_supplement", cast.municipal_reviewer, {"items": ["设备清单"]})
    fire(app_id, "supply", cast.applicant, {"answers": {"1": "已上传新版设备清单"}})
    with db.transaction() as session:
        (request,) = session.scalars(select(SupplementRequest).where(SupplementRequest.application_id == app_id))
        assert request.answers == {"1": "已上传新版设备清单"}
    assert factories.state_of(app_id)[0] == "completeness_check"
