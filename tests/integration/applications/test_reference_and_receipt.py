"""Check your answers, then a receipt (issue 15 item 2): the reference number (申报编号: programme, year, district,
a sequence; unique; kept by a resubmission), shown on the pages and the API and searchable within visibility
(item 9); the check page with what still blocks a submission; the confirmation; the .docx receipt; the notification."""

from __future__ import annotations

import io
import re

from docx import Document

from tests import factories
from tests.support.api import bearer
from tests.support.pages import log_in, text_of
from workflow.db import db
from workflow.engine import fire
from workflow.models import Application

YEAR = factories.shanghai_today().year


def _reference(app_id: int) -> str | None:
    with db.transaction() as session:
        found = session.get(Application, app_id)
        assert found is not None
        return found.reference


def _submitted(cast: factories.Cast, **kwargs: str) -> tuple[int, str]:
    app_id = factories.new_application(cast, **kwargs)
    fire(app_id, "submit", cast.applicant)
    reference = _reference(app_id)
    assert reference is not None
    return app_id, reference


def _number(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


def _api_ids(client, user, text: str) -> set[int]:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/applications", query_string={"q": text}, headers=bearer(client, user))
    assert answer.status_code == 200, answer.get_json()
    return {item["id"] for item in answer.get_json()["items"]}


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


# --- the number -----------------------------------------------------------------------------------------------


def test_the_first_submission_numbers_the_application_by_programme_year_district_and_sequence(client, cast):
    draft = factories.new_application(cast)
    assert _reference(draft) is None  # a draft never submitted has none
    first, ref1 = _submitted(cast)
    _, ref2 = _submitted(cast)
    # 闵行区 is MH; the sequence is four digits and counts on within the series.
    assert re.fullmatch(rf"EMC-{YEAR}-MH-\d{{4}}", ref1), ref1
    assert ref2 == f"EMC-{YEAR}-MH-{_number(ref1) + 1:04d}"
    xuhui = factories.make_cast("徐汇区")
    _, ref3 = _submitted(xuhui)
    assert ref3.startswith(f"EMC-{YEAR}-XH-")  # another district: a series of its own
    _, ref4 = _submitted(cast, programme="monitoring-fund")
    assert ref4.startswith(f"JC-{YEAR}-MH-")  # another programme (seed 000's fund): its own prefix
    assert len({ref1, ref2, ref3, ref4}) == 4
    # The API carries it; the draft's is null.
    body = client.get(f"/api/v1/applications/{first}", headers=bearer(client, cast.applicant)).get_json()
    assert body["reference"] == ref1
    body = client.get(f"/api/v1/applications/{draft}", headers=bearer(client, cast.applicant)).get_json()
    assert body["reference"] is None


def test_a_resubmission_after_a_return_keeps_the_reference(cast):
    app_id, reference = _submitted(cast)
    factories.drive_to(cast, app_id, "returned")
    fire(app_id, "resubmit", cast.applicant)
    assert factories.state_of(app_id)[0] == "district_review"
    assert _reference(app_id) == reference
    _, following = _submitted(cast)
    assert _number(following) == _number(reference) + 1  # the resubmission took no number


def test_the_reference_is_shown_on_the_list_the_export_and_the_detail_page(app, cast):
    app_id, reference = _submitted(cast)
    browser = log_in(app, cast.district_reviewer)
    assert reference in text_of(browser.get("/applications"))
    assert f'<strong id="reference">{reference}</strong>' in browser.get(f"/applications/{app_id}").text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(browser.get("/applications.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert [row[-1] for row in rows[2:] if row[0] == app_id] == [reference]


def test_search_finds_the_reference_whole_or_its_start_within_visibility(client, cast):
    app_id, reference = _submitted(cast)
    xuhui = factories.make_cast("徐汇区")
    theirs, their_reference = _submitted(xuhui)
    auditor = cast.auditor
    assert _api_ids(client, auditor, reference) == {app_id}
    assert _api_ids(client, auditor, reference.lower()) == {app_id}  # in any case
    assert app_id in _api_ids(client, auditor, f"EMC-{YEAR}-MH")  # the start: the district's year
    assert theirs not in _api_ids(client, auditor, f"EMC-{YEAR}-MH")
    assert _api_ids(client, auditor, their_reference) == {theirs}
    # The district's reviewer finds their own district's by its number, never another district's.
    assert _api_ids(client, cast.district_reviewer, reference) == {app_id}
    assert _api_ids(client, cast.district_reviewer, their_reference) == set()
    assert _api_ids(client, xuhui.district_reviewer, reference) == set()


# --- check your answers -------------------------------------------------------------------------------------------


def test_the_applicants_submit_button_leads_to_the_check_page(app, cast):
    app_id = factories.new_application(cast)
    page = log_in(app, cast.applicant).get(f"/applications/{app_id}")
    assert f'id="go-check" href="/applications/{app_id}/check"' in page.text
    assert f'action="/applications/{app_id}/transitions/submit"' not in page.text


def test_the_check_page_lists_what_still_blocks_and_a_refused_submit_says_why(app, cast):
    app_id = factories.new_application(cast, attach=False)
    factories.upload(app, cast, app_id, "business_licence")
    with db.transaction() as session:
        found = session.get(Application, app_id)
        assert found is not None
        found.form = {k: v for k, v in found.form.items() if k != "contact_phone"}
    browser = log_in(app, cast.applicant, lang="en")
    page = browser.get(f"/applications/{app_id}/check")
    assert page.status_code == 200
    text = text_of(page)
    assert 'id="blocking"' in page.text
    assert "Fill in “Contact phone”" in text  # the field to fill in
    assert "Upload “EMC construction contract (scan)”" in text  # a document to upload
    assert "Upload “Business licence (scan)”" not in text
    assert "Business licence (scan)" in text  # an uploaded document is listed with the others
    version = factories.state_of(app_id)[1]
    refused = browser.post(f"/applications/{app_id}/check", data={"submit-expected_version": str(version)})
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.text and "was not done" in text_of(refused)
    assert factories.state_of(app_id)[0] == "draft" and _reference(app_id) is None


def test_the_check_page_shows_each_sections_answers_with_a_change_link_then_submits(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant, lang="en")
    page = browser.get(f"/applications/{app_id}/check")
    assert page.status_code == 200
    assert 'id="blocking"' not in page.text  # nothing blocks
    text = text_of(page)
    with db.transaction() as session:
        form = dict(session.get(Application, app_id).form)  # type: ignore[union-attr]
    assert form["unit_name"] in text and form["uscc"] in text
    changes = re.findall(r'<a class="change" href="([^"]+)"', page.text)
    assert f"/applications/{app_id}/form/applicant" in changes and f"/applications/{app_id}#attachments" in changes
    version = factories.state_of(app_id)[1]
    sent = browser.post(f"/applications/{app_id}/check", data={"submit-expected_version": str(version)})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/applications/{app_id}/submitted")
    reference = _reference(app_id)
    assert reference is not None and factories.state_of(app_id)[0] == "district_review"

    confirmation = browser.get(f"/applications/{app_id}/submitted")
    assert f'<strong class="reference" id="reference">{reference}</strong>' in confirmation.text
    assert "What happens next" in text_of(confirmation)
    assert f'href="/applications/{app_id}/receipt.docx"' in confirmation.text
    # Submitted, the check page leads to the confirmation; a stale second post changes nothing.
    assert browser.get(f"/applications/{app_id}/check").headers["Location"].endswith("/submitted")


def test_a_stale_check_page_does_not_submit(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    version = factories.state_of(app_id)[1]
    stale = browser.post(f"/applications/{app_id}/check", data={"submit-expected_version": str(version - 1)})
    assert stale.status_code == 303 and stale.headers["Location"].endswith("/check")
    assert factories.state_of(app_id)[0] == "draft"


def test_only_the_applicant_checks_and_submits(app, cast):
    app_id = factories.new_application(cast)
    assert log_in(app, cast.other_applicant).get(f"/applications/{app_id}/check").status_code == 404
    fire(app_id, "submit", cast.applicant)
    assert log_in(app, cast.district_reviewer).get(f"/applications/{app_id}/check").status_code == 403


# --- the receipt ----------------------------------------------------------------------------------------------


def test_the_receipt_names_the_reference_the_unit_the_time_the_revision_and_each_attachment(app, cast):
    app_id, reference = _submitted(cast)
    reviewer = log_in(app, cast.district_reviewer)  # whoever may see the application may download it
    response = reviewer.get(f"/applications/{app_id}/receipt.docx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    text = _docx_text(response.data)
    with db.transaction() as session:
        found = session.get(Application, app_id)
        assert found is not None
        unit, uscc = found.organisation.name, found.organisation.uscc
    for words in ("申报回执", reference, unit, uscc, "闵行区", "能源管理中心建设项目", "第1版"):
        assert words in text, words
    assert "上海市工业通信业节能减排和合同能源管理专项资金" in text
    assert re.search(rf"提交时间（北京时间）\n{YEAR}-\d\d-\d\d \d\d:\d\d", text)
    assert "营业执照扫描件" in text and "附件.pdf" in text and " B" in text  # each attachment with its size
    # Not visible, not found; not submitted, no receipt.
    assert log_in(app, cast.other_district_reviewer).get(f"/applications/{app_id}/receipt.docx").status_code == 404
    draft = factories.new_application(cast)
    assert log_in(app, cast.applicant).get(f"/applications/{draft}/receipt.docx").status_code == 303


def test_a_resubmission_receipt_names_the_second_revision(app, cast):
    app_id, reference = _submitted(cast)
    factories.drive_to(cast, app_id, "returned")
    fire(app_id, "resubmit", cast.applicant)
    text = _docx_text(log_in(app, cast.applicant).get(f"/applications/{app_id}/receipt.docx").data)
    assert reference in text and "第2版" in text


# --- the notification ---------------------------------------------------------------------------------------------


def test_the_applicant_is_told_the_reference_of_the_submission(client, cast, mailbox):
    app_id, reference = _submitted(cast)
    body = client.get("/api/v1/inbox", headers=bearer(client, cast.applicant)).get_json()
    [told] = [item for item in body["items"] if item["application_id"] == app_id]
    assert told["event"]["trigger"] == "submit"
    assert told["data"]["reference"] == reference and told["application"]["reference"] == reference
    [mail] = [m for m in mailbox.messages() if m.envelope_to[0] == cast.applicant.email]
    assert f"申报编号：{reference}" in mail.part("plain") and reference in mail.part("html")
