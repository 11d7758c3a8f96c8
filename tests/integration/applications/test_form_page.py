"""The application form page: a draft saves whatever was typed and shows what the rules say beside each field."""

from __future__ import annotations

import datetime as dt
import re

from applications.attachments import required_categories
from forms.samples import sample_form
from tests import factories
from tests.support.pages import fire_form, log_in, state_badge, text_of
from tests.support.uploads import post_upload
from workflow import operations
from workflow.db import db
from workflow.engine import fire
from workflow.models import Application


def _draft(cast, kind="enterprise", form=None) -> int:  # type: ignore[no-untyped-def]
    return operations.create_application(cast.applicant, "emc-acceptance", kind, "能源管理中心项目", form or {}).id


def _page_data(form: dict, version: int) -> dict:  # type: ignore[type-arg]
    data = {k: ("y" if v is True else v if isinstance(v, list) else str(v)) for k, v in form.items() if v is not False}
    return {**data, "expected_version": str(version)}


def test_the_page_has_every_field_of_the_kind_in_its_sections(app, cast):
    """The form page lists the seed's parts (附件2); each part's page has its fields (issue 15: a task list)."""
    app_id = _draft(cast, "park")
    browser = log_in(app, cast.applicant)
    tasks = browser.get(f"/applications/{app_id}/form")
    headings = ("一、申报（投资）主体基本情况", "二、申报项目基本情况", "三、能源管理中心建设情况", "验收申请报告")
    assert all(h in text_of(tasks) for h in headings)
    slugs = re.findall(rf'href="/applications/{app_id}/form/(\w+)"', tasks.text)
    pages = "".join(text_of(browser.get(f"/applications/{app_id}/form/{slug}")) for slug in dict.fromkeys(slugs))
    for text in ("统一社会信用代码", "园区综合能耗2000tce以上企业数量", "第六章 下一步计划"):
        assert text in pages
    assert "已接入“上海市数据中心能耗在线监测平台”" not in pages  # a data centre's field, not a park's


def test_saving_keeps_what_was_typed_and_shows_each_problem_beside_its_field(app, cast):
    """The whole form posted at once (as before the task list) is still saved; the problems are counted in a
    warning, not a green "草稿已保存" (issue 15), and shown beside their fields on the sections' pages."""
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant)
    saved = browser.post(
        f"/applications/{app_id}/form",
        data={"unit_name": "上海某厂", "contact_phone": "12345", "tier1_points": "4", "tier1_connected": "3",
              "expected_version": "1"},
    )  # fmt: skip
    assert saved.status_code == 303
    page = browser.get(saved.headers["Location"])
    text = text_of(page)
    assert "草稿已保存" not in text and 'class="flash flash-warning"' in page.text
    assert "提交前还需填写" in text
    applicant = browser.get(f"/applications/{app_id}/form/applicant")
    assert "“12345”不是有效的手机号码或座机号码" in text_of(applicant)
    assert 'value="12345"' in applicant.text  # nothing typed is lost
    metering = text_of(browser.get(f"/applications/{app_id}/form/metering"))
    assert "一级（关口）表具接入率 75.00%（3/4）低于要求的 100.00%" in metering
    assert "75.00%" in metering  # the ratio, computed
    english = text_of(log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}/form"))
    assert "Fill in “Unified social credit code”" in english


def test_a_form_completed_on_the_page_can_be_submitted(app, cast):
    app_id = _draft(cast, "data_centre")
    browser = log_in(app, cast.applicant)
    form = {**sample_form("emc-acceptance", "data_centre"), "district": cast.org.district}
    assert browser.post(f"/applications/{app_id}/form", data=_page_data(form, 1)).status_code == 303
    assert "提交前还需填写" not in text_of(browser.get(f"/applications/{app_id}/form"))
    for category in required_categories(
        factories.newest_definition("emc-acceptance"), "data_centre", form
    ):  # uploaded on the page too
        assert post_upload(browser, app_id, category, factories.SAMPLE_PDF).status_code == 303
    submitted = fire_form(browser, app_id, "submit")
    assert state_badge(browser.get(submitted.headers["Location"])) == "区主管部门初审中"


def test_a_stale_save_keeps_the_entries_and_says_why(app, cast):
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant)
    operations.update_draft(cast.applicant, app_id, {"unit_name": "别处改过"}, expected_version=1)
    stale = browser.post(f"/applications/{app_id}/form", data={"unit_name": "我的改动", "expected_version": "1"})
    assert stale.status_code == 409
    assert "已被他人修改" in text_of(stale) and 'value="我的改动"' in stale.text


def test_only_the_applicant_edits_and_only_while_editable(app, cast):
    app_id = factories.new_application(cast)
    assert log_in(app, cast.other_applicant).get(f"/applications/{app_id}/form").status_code == 404
    factories.drive_to(cast, app_id, "district_review")
    moved_on = log_in(app, cast.applicant).get(f"/applications/{app_id}/form")
    assert moved_on.status_code == 303 and moved_on.headers["Location"].endswith(f"/applications/{app_id}")
    assert log_in(app, cast.district_reviewer).get(f"/applications/{app_id}/form").status_code == 303


def test_english_labels_on_request(app, cast):
    page = text_of(log_in(app, cast.applicant, lang="en").get(f"/applications/{_draft(cast)}/form/applicant"))
    assert "Unified social credit code" in page and "Save and continue" in page


def test_the_list_says_what_is_expected_of_the_reader_and_by_when(app, cast):
    app_id = factories.new_application(cast, project_name="补充材料中的项目")
    factories.drive_to(cast, app_id, "completeness_check")
    due = factories.working_day(12).isoformat()
    fire(app_id, "request_supplement", cast.municipal_reviewer, {"items": ["专项审计报告"], "due_date": due})

    mine = text_of(log_in(app, cast.applicant).get("/applications"))
    assert f"待您办理: 提交补充材料 · 截止 {due}" in mine
    assert "撤回申报" not in mine.split("补充材料中的项目", 1)[1][:200]  # withdrawing is possible, not expected

    reviewer = text_of(log_in(app, cast.district_reviewer).get("/applications"))
    assert "待您办理" not in reviewer  # nothing waits for the district now
    assert f"截止日期：{due}" in reviewer


def test_energy_types_are_ticked_on_the_page_and_the_seed_conditions_show_beside_their_fields(app, cast):
    """Form @2: several energy types as checkboxes, kept in the form's order; a recent completion and a
    saving rate under 5 % are named beside their fields (seed 002 §四(一)(3), §四(二)(4))."""
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant)
    page = browser.get(f"/applications/{app_id}/form/metering")
    assert '<fieldset class="choices"><legend>接入的能源品种</legend>' in page.text
    assert page.text.count('name="energy_types"') == 7
    recent = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    sent = {"energy_types": ["water", "electricity"], "completion_date": recent, "start_date": "2025-01-01",
            "saving_rate_pct": "4.5", "expected_version": "1"}  # fmt: skip
    assert browser.post(f"/applications/{app_id}/form", data=sent).status_code == 303
    with db.transaction() as session:
        stored = session.get(Application, app_id)
        assert stored is not None
        assert stored.form["energy_types"] == ["electricity", "water"]  # the field's order, not the ticking order
    shown = browser.get(f"/applications/{app_id}/form/metering")
    assert re.search(r'<input checked id="energy_types-0" name="energy_types" type="checkbox" value="electricity">',
                     shown.text)  # fmt: skip
    assert "须稳定运行6个月以上" in text_of(browser.get(f"/applications/{app_id}/form/applicant"))
