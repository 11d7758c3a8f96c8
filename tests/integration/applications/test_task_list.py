"""The application form as a task list (issue 15 §1): sections saved on their own, each with its status; the
organisation's own facts prefilled; the GOV.UK error summary; "fill in" for fields and "upload" for files."""

from __future__ import annotations

import re
from typing import Any

from flask import url_for
from werkzeug.routing import BuildError

from applications.attachments import required_categories
from applications.models import category_label
from forms.samples import sample_form
from tests import factories
from tests.support.pages import log_in, text_of
from tests.support.uploads import post_upload
from workflow import operations
from workflow.db import db
from workflow.models import Application

# Form @2 for an enterprise, in the order of the seed's 附件2 headings (forms.fields.SECTIONS).
APPLICANT = ("unit_name", "uscc", "investment_mode", "legal_representative", "nature", "industry", "address",
             "district", "contact_person", "contact_phone", "start_date", "completion_date", "last_year_energy_tce",
             "annual_output_value_wan")  # fmt: skip


def _draft(cast: Any, form: dict[str, Any] | None = None) -> int:
    return operations.create_application(
        cast.applicant, "emc-acceptance", "enterprise", "能源管理中心项目", form or {}
    ).id


def _stored(app_id: int) -> dict[str, Any]:
    with db.transaction() as session:
        found = session.get(Application, app_id)
        assert found is not None
        return dict(found.form)


def _version(app_id: int) -> str:
    return str(factories.state_of(app_id)[1])


def _status(page: Any, task: str) -> str:
    found = re.search(rf'id="task-{task}-status" data-status="(\w+)"', page.text)
    assert found, f"no task {task} on the page"
    return found.group(1)


def _sample(cast: Any, keys: tuple[str, ...]) -> dict[str, str]:
    form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
    return {k: str(form[k]) for k in keys}


def test_a_section_goes_from_not_started_to_in_progress_to_done(app, cast):
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant, lang="en")
    page = browser.get(f"/applications/{app_id}/form")
    assert {_status(page, t) for t in ("applicant", "project", "metering", "effects", "centre", "report")} == {
        "not_started"
    }
    assert _status(page, "attachments") == "not_started"
    assert "0 of 7 sections done" in text_of(page)  # six parts of the form and the attachments

    half = {"unit_name": "上海某厂", "expected_version": _version(app_id)}
    assert browser.post(f"/applications/{app_id}/form/applicant", data=half).status_code == 303
    page = browser.get(f"/applications/{app_id}/form")
    assert _status(page, "applicant") == "in_progress" and _status(page, "project") == "not_started"

    whole = {**_sample(cast, APPLICANT), "expected_version": _version(app_id)}
    saved = browser.post(f"/applications/{app_id}/form/applicant", data=whole)
    assert saved.headers["Location"].endswith(f"/applications/{app_id}/form/project")  # on to the next section
    page = browser.get(f"/applications/{app_id}/form")
    assert _status(page, "applicant") == "done" and "1 of 7 sections done" in text_of(page)


def test_the_attachments_task_follows_the_uploads(app, cast):
    form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
    app_id = _draft(cast, form)
    browser = log_in(app, cast.applicant, lang="en")
    page = browser.get(f"/applications/{app_id}/form")
    assert _status(page, "report") == "done" and _status(page, "attachments") == "not_started"
    assert f'href="/applications/{app_id}#attachments"' in page.text
    required = required_categories(factories.newest_definition("emc-acceptance"), "enterprise", form)
    assert post_upload(browser, app_id, required[0], factories.SAMPLE_PDF).status_code == 303
    assert _status(browser.get(f"/applications/{app_id}/form"), "attachments") == "in_progress"
    for category in required[1:]:
        assert post_upload(browser, app_id, category, factories.SAMPLE_PDF + category.encode()).status_code == 303
    page = browser.get(f"/applications/{app_id}/form")
    assert _status(page, "attachments") == "done" and "7 of 7 sections done" in text_of(page)
    assert 'id="still-needed"' not in page.text and 'id="files-needed"' not in page.text


def test_saving_a_section_keeps_the_other_sections(app, cast):
    form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
    app_id = _draft(cast, form)
    browser = log_in(app, cast.applicant)
    sent = {**_sample(cast, APPLICANT), "unit_name": "改过的单位名称", "expected_version": _version(app_id)}
    del sent["nature"]  # emptied on the page: removed from the draft
    assert browser.post(f"/applications/{app_id}/form/applicant", data=sent).status_code == 303
    stored = _stored(app_id)
    assert stored["unit_name"] == "改过的单位名称" and "nature" not in stored
    untouched = {k: v for k, v in form.items() if k not in APPLICANT}
    assert {k: stored.get(k) for k in untouched} == untouched  # the other sections as they were


def test_invalid_values_are_kept_counted_and_linked_from_the_error_summary(app, cast):
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant, lang="en")
    sent = {"unit_name": "上海某厂", "uscc": "bad", "contact_phone": "12345", "start_date": "2025-05-01",
            "completion_date": "2025-01-01", "expected_version": _version(app_id)}  # fmt: skip
    saved = browser.post(f"/applications/{app_id}/form/applicant", data=sent)
    assert saved.headers["Location"].endswith(f"/applications/{app_id}/form/applicant")  # stays to correct them
    stored = _stored(app_id)
    assert (stored["uscc"], stored["contact_phone"]) == ("bad", "12345")  # nothing typed is lost

    page = browser.get(saved.headers["Location"])
    flash = re.search(r'<div class="flash flash-(\w+)"[^>]*>\s*([^<]*)', page.text)
    assert flash is not None and flash.group(1) == "warning"
    assert flash.group(2).strip() == "Saved, but 3 answers need your attention: see below."
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', page.text, re.S)
    assert summary is not None
    assert 'role="alert" tabindex="-1" autofocus' in page.text and "There is a problem" in summary.group(1)
    assert re.findall(r'href="#([\w-]+)"', summary.group(1)) == ["uscc", "contact_phone", "completion_date"]
    for key in ("uscc", "contact_phone", "completion_date"):  # and beside each field, tied to it
        assert f'aria-describedby="{key}-error"' in page.text and f'id="{key}-error"' in page.text
    assert 'value="12345"' in page.text and 'value="bad"' in page.text


def test_a_clean_section_save_is_said_in_green_and_none_in_the_summary(app, cast):
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant)
    sent = {"unit_name": "上海某厂", "expected_version": _version(app_id), "then": "list"}
    saved = browser.post(f"/applications/{app_id}/form/applicant", data=sent)
    assert saved.headers["Location"].endswith(f"/applications/{app_id}/form")  # back to the list, as asked
    page = browser.get(saved.headers["Location"])
    assert 'class="flash flash-success"' in page.text and "error-summary" not in page.text


def test_the_organisation_record_fills_its_fields_until_the_applicant_saves_others(app, cast):
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant)
    page = browser.get(f"/applications/{app_id}/form/applicant")
    assert f'name="unit_name" type="text" value="{cast.org.name}"' in page.text
    assert f'name="uscc" type="text" value="{cast.org.uscc}"' in page.text
    assert f'<option selected value="{cast.org.district}">' in page.text
    assert 'id="unit_name-prefilled"' in page.text

    sent = {"unit_name": "分厂名称", "expected_version": _version(app_id)}
    browser.post(f"/applications/{app_id}/form/applicant", data=sent)
    page = browser.get(f"/applications/{app_id}/form/applicant")
    assert 'name="unit_name" type="text" value="分厂名称"' in page.text  # what was saved wins
    assert f'name="uscc" type="text" value="{cast.org.uscc}"' in page.text  # still empty: still offered


def test_still_needed_says_fill_in_for_fields_and_upload_for_files_with_links(app, cast):
    form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
    del form["uscc"]
    form["contact_phone"] = "12345"
    app_id = _draft(cast, form)
    page = log_in(app, cast.applicant, lang="en").get(f"/applications/{app_id}/form")
    needed = re.search(r'id="still-needed">(.*?)</section>', page.text, re.S)
    files = re.search(r'id="files-needed">(.*?)</section>', page.text, re.S)
    assert needed is not None and files is not None  # fields and files apart
    section = f"/applications/{app_id}/form/applicant"
    assert f'<a href="{section}#uscc">Fill in “Unified social credit code”</a>' in needed.group(1)
    assert f'<a href="{section}#contact_phone">Correct “Contact phone”: ' in needed.group(1)
    assert "Upload" not in needed.group(1)
    licence = category_label("business_licence", "en")
    assert f'<a href="/applications/{app_id}#attachments">Upload “{licence}”</a>' in files.group(1)
    assert "Fill in" not in files.group(1)


def test_after_the_last_section_continue_leads_to_checking_the_answers(app, cast):
    form = {**sample_form("emc-acceptance", "enterprise"), "district": cast.org.district}
    app_id = _draft(cast, form)
    browser = log_in(app, cast.applicant)
    report = {k: v for k, v in form.items() if k.startswith("report_")}
    saved = browser.post(f"/applications/{app_id}/form/report", data={**report, "expected_version": _version(app_id)})
    with app.test_request_context():
        try:
            expected = url_for("applications.check_answers", application_id=app_id)
        except BuildError:  # before the check-your-answers page exists: the application's page
            expected = url_for("applications.application", application_id=app_id)
    assert saved.status_code == 303 and saved.headers["Location"].endswith(expected)
    assert f'id="continue" href="{expected}"' in browser.get(f"/applications/{app_id}/form").text


def test_a_stale_section_save_keeps_the_entries_and_says_why(app, cast):
    app_id = _draft(cast)
    browser = log_in(app, cast.applicant)
    operations.update_draft(cast.applicant, app_id, {"unit_name": "别处改过"}, expected_version=1)
    stale = browser.post(
        f"/applications/{app_id}/form/applicant", data={"unit_name": "我的改动", "expected_version": "1"}
    )
    assert stale.status_code == 409
    assert "已被他人修改" in text_of(stale) and 'value="我的改动"' in stale.text
    assert _stored(app_id)["unit_name"] == "别处改过"


def test_an_unknown_section_is_not_found_and_others_cannot_edit(app, cast):
    app_id = _draft(cast)
    assert log_in(app, cast.applicant).get(f"/applications/{app_id}/form/nothing").status_code == 404
    assert log_in(app, cast.other_applicant).get(f"/applications/{app_id}/form/applicant").status_code == 404
