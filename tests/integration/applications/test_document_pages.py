"""The applicant's documents on the pages: the commitment, and the credit-query letter from a small form."""

from __future__ import annotations

import io

from docx import Document
from flask import render_template
from sqlalchemy import select

from applications.models import CreditAuthoriser
from tests import factories
from tests.support.pages import log_in, text_of
from web.applications.documents import documents_context
from workflow.accounts import User
from workflow.db import db
from workflow.models import Application

NUMBER = "11010519491231002X"
MASKED = "110***********002X"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _page(app_id: int) -> str:
    return f"/applications/{app_id}/documents"


def _letter_url(app_id: int) -> str:
    return f"/applications/{app_id}/documents/credit-authorisation"


def _form(person_name: str = "张伟", id_card: str = NUMBER, role: str = "法人代表") -> dict[str, str]:
    return {"authoriser-person_name": person_name, "authoriser-id_card": id_card, "authoriser-role": role}


def _docx_text(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)


def _stored(app_id: int) -> list[tuple[str, str, str]]:
    with db.transaction() as session:  # its own transaction: it sees what the requests wrote
        rows = session.scalars(select(CreditAuthoriser).where(CreditAuthoriser.application_id == app_id))
        return [(r.person_name, r.id_card_masked, r.id_card_sealed) for r in rows]


def test_the_applicant_sees_both_documents_and_an_empty_form(app, cast):
    app_id = factories.new_application(cast)
    page = log_in(app, cast.applicant).get(_page(app_id))
    assert page.status_code == 200
    text = text_of(page)
    for words in ("需打印、签字并上传的文件", "申报材料真实性承诺书（.docx）", "尚未登记信用查询授权人", "授权人姓名",
                  "身份证号码", "授权人身份", "登记并下载授权书"):  # fmt: skip
        assert words in text
    assert 'name="authoriser-id_card"' in page.text and 'value="法人代表"' in page.text
    assert 'id="download-authorisation"' not in page.text  # nothing to regenerate yet


def test_the_commitment_downloads_as_docx(app, cast):
    app_id = factories.new_application(cast, project_name="剑川路能源管理中心")
    response = log_in(app, cast.applicant).get(f"/applications/{app_id}/documents/authenticity-commitment")
    assert response.status_code == 200 and response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "剑川路能源管理中心" in _docx_text(response)


def test_a_bad_id_number_is_shown_beside_its_field_in_chinese_and_the_name_is_kept(app, cast):
    app_id = factories.new_application(cast)
    refused = log_in(app, cast.applicant).post(_letter_url(app_id), data=_form(id_card="110105194912310021"))
    assert refused.status_code == 422 and refused.mimetype == "text/html"
    text = text_of(refused)
    assert "身份证号码校验位应为 X，不是 1" in text
    assert 'id="authoriser-id_card-error"' in refused.text and 'value="张伟"' in refused.text
    assert _stored(app_id) == []


def test_an_empty_form_says_what_is_missing(app, cast):
    app_id = factories.new_application(cast)
    refused = log_in(app, cast.applicant).post(_letter_url(app_id), data=_form(person_name="", id_card=""))
    assert refused.status_code == 422
    assert "请填写姓名。" in text_of(refused) and "请填写身份证号码。" in text_of(refused)


def test_the_form_records_the_authoriser_and_returns_the_letter(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    letter = browser.post(_letter_url(app_id), data=_form(id_card=NUMBER.lower()))
    assert letter.status_code == 200 and letter.mimetype == DOCX
    assert "本人张伟为上海申闵精密制造有限公司的法人代表" in _docx_text(letter)
    assert f"身份证号码：{NUMBER}" in _docx_text(letter)
    [(name, masked, sealed_value)] = _stored(app_id)
    assert (name, masked) == ("张伟", MASKED) and NUMBER not in sealed_value

    page = browser.get(_page(app_id))
    assert MASKED in page.text and NUMBER not in page.text.upper()
    assert 'value="张伟"' in page.text  # the name is offered again, the ID number never
    assert 'name="authoriser-id_card" value' not in page.text
    again = browser.get(_letter_url(app_id))
    assert again.status_code == 200 and f"身份证号码：{NUMBER}" in _docx_text(again)


def test_no_letter_to_regenerate_before_one_is_recorded(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    response = browser.get(_letter_url(app_id))
    assert response.status_code == 303 and response.headers["Location"].endswith(_page(app_id))
    assert "尚未登记信用查询授权人：请先填写下方表单。" in text_of(browser.get(response.headers["Location"]))


def test_only_the_applicants_own_organisation_gets_the_documents(app, cast):
    app_id = factories.new_application(cast)
    log_in(app, cast.applicant).post(_letter_url(app_id), data=_form())
    other = log_in(app, cast.other_applicant)
    for path in (_page(app_id), _letter_url(app_id), f"/applications/{app_id}/documents/authenticity-commitment"):
        assert other.get(path).status_code == 404
    assert other.post(_letter_url(app_id), data=_form(person_name="冒名")).status_code == 404
    factories.drive_to(cast, app_id, "district_review")
    reviewer = log_in(app, cast.district_reviewer)
    refused = reviewer.get(_letter_url(app_id))
    assert refused.status_code == 403 and "只有申报单位可以打印本单位的申报文件。" in text_of(refused)
    assert [name for name, _, _ in _stored(app_id)] == ["张伟"]


def test_after_submission_the_letter_is_still_there_but_the_form_is_not(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    browser.post(_letter_url(app_id), data=_form())
    factories.drive_to(cast, app_id, "district_review")
    page = browser.get(_page(app_id))
    assert 'id="credit-authoriser-form"' not in page.text and 'id="download-authorisation"' in page.text
    refused = browser.post(_letter_url(app_id), data=_form(person_name="李娜"))
    assert refused.status_code == 303
    assert "只有在申报表可编辑或需要补充材料时才能登记授权人。" in text_of(browser.get(refused.headers["Location"]))
    assert len(_stored(app_id)) == 1


def test_english_on_request(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant, lang="en")
    text = text_of(browser.get(_page(app_id)))
    assert "Documents to print, sign and upload" in text and "Legal representative" in text
    refused = browser.post(_letter_url(app_id), data=_form(id_card="110105194912310021"))
    assert "Not a valid ID card number" in text_of(refused)


def test_the_partial_renders_everything_for_the_applicant_and_the_form_only_for_others(app, cast):
    app_id = factories.new_application(cast)
    monitoring_id = factories.new_application(cast, programme="monitoring-fund")
    with app.test_request_context():  # as pages.py would call it: within a request, through db.session
        application, monitoring = db.session.get(Application, app_id), db.session.get(Application, monitoring_id)
        applicant, reviewer = db.session.get(User, cast.applicant.id), db.session.get(User, cast.district_reviewer.id)
        assert documents_context(application, reviewer) == {
            "applicant": False,
            "application_form_url": _application_form_url(app_id),
        }
        assert documents_context(monitoring, reviewer) is None  # nothing to print for a reviewer there
        assert render_template("_documents.html", app=application, documents=None).strip() == ""
        reviewers = render_template(
            "_documents.html", app=application, documents=documents_context(application, reviewer)
        )
        documents = documents_context(application, applicant)
        assert documents is not None and documents["authoriser"] is None and documents["form"] is not None
        html = render_template("_documents.html", app=application, documents=documents)
    assert 'id="credit-authoriser-form"' in html and f'action="{_letter_url(app_id)}"' in html
    assert f'id="download-application-form" href="{_application_form_url(app_id)}"' in html
    assert 'id="download-application-form"' in reviewers
    assert 'id="download-commitment"' not in reviewers and 'id="credit-authoriser-form"' not in reviewers


# --- 附件2 项目申请表 (seed 002) ------------------------------------------------------------------------------------


def _application_form_url(app_id: int) -> str:
    return f"/applications/{app_id}/documents/application-form"


def test_the_applicant_downloads_the_application_form_from_the_documents_card(app, cast):
    app_id = factories.new_application(cast)
    browser = log_in(app, cast.applicant)
    for page in (browser.get(f"/applications/{app_id}"), browser.get(_page(app_id))):
        assert f'id="download-application-form" href="{_application_form_url(app_id)}"' in page.text
        assert "项目申请表及验收申请报告（.docx）" in text_of(page)
    response = browser.get(_application_form_url(app_id))
    assert response.status_code == 200 and response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    paragraphs = [p.text for p in Document(io.BytesIO(response.data)).paragraphs]
    assert paragraphs[:2] == ["上海市工业通信业节能减排和合同能源管理专项资金", "（能源管理中心建设）项目申请表"]


def test_a_reviewer_who_sees_the_application_downloads_its_form_an_outsider_does_not(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    reviewer = log_in(app, cast.district_reviewer)
    page = reviewer.get(f"/applications/{app_id}")
    assert "可打印的项目申请表" in text_of(page) and 'id="download-commitment"' not in page.text
    response = reviewer.get(_application_form_url(app_id))
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    for outsider in (cast.other_applicant, cast.other_district_reviewer):
        assert log_in(app, outsider).get(_application_form_url(app_id)).status_code == 404


def test_a_monitoring_fund_application_offers_no_application_form(app, cast):
    app_id = factories.new_application(cast, programme="monitoring-fund")
    browser = log_in(app, cast.applicant)
    assert 'id="download-application-form"' not in browser.get(_page(app_id)).text
    response = browser.get(_application_form_url(app_id))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/applications/{app_id}")
    assert "本专项没有可打印的附件2项目申请表。" in text_of(browser.get(response.headers["Location"]))
