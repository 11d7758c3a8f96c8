"""Attachments on the pages: the required list, the streamed upload (with and without script), refusals, downloads."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from applications.models import Attachment
from storage.multipart import blob_key
from tests import factories
from tests.support.pages import csrf_app, log_in, text_of
from tests.support.uploads import MB, DiesHalfway, peak_allocation, post_upload
from web.core.extensions import blob_store
from workflow.db import db
from workflow.engine import fire

PDF = factories.SAMPLE_PDF
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"This program cannot be run"


def as_json() -> dict[str, str]:
    return {"Accept": "application/json"}


def rows_of(app_id: int, category: str | None = None) -> list[Attachment]:
    with db.transaction() as session:
        query = select(Attachment).where(Attachment.application_id == app_id).order_by(Attachment.id)
        if category:
            query = query.where(Attachment.category == category)
        return list(session.scalars(query))


def test_the_detail_page_lists_what_is_required_and_what_is_missing(app, cast):
    app_id = factories.new_application(cast, attach=False)
    factories.upload(app, cast, app_id, "business_licence", filename="营业执照.pdf")
    page = log_in(app, cast.applicant).get(f"/applications/{app_id}")
    missing = re.search(r'id="attachments-missing".*?</div>', page.text, re.S)
    assert missing is not None
    assert "设备清单" in missing.group(0) and "营业执照" not in missing.group(0)
    assert "营业执照.pdf" in text_of(page)
    assert 'id="upload-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    # The upload script is the site's own file; the page allows no other (and no inline) script.
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script src="/static/upload.js"' in page.text


def test_a_plain_form_upload_is_stored_and_the_page_shows_it(app, cast):
    app_id = factories.new_application(cast, attach=False)
    client = log_in(app, cast.applicant)
    response = post_upload(client, app_id, "equipment_list", PDF, "设备清单.pdf")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/applications/{app_id}#attachments")
    (row,) = rows_of(app_id)
    assert (row.category, row.filename, row.content_type, row.version) == (
        "equipment_list",
        "设备清单.pdf",
        "application/pdf",
        1,
    )
    page = text_of(client.get(f"/applications/{app_id}"))
    assert "已上传" in page and "设备清单.pdf" in page


def test_the_script_gets_json_with_where_to_go_next(app, cast):
    app_id = factories.new_application(cast, attach=False)
    client = log_in(app, cast.applicant)
    response = post_upload(client, app_id, "business_licence", PDF, headers=as_json())
    assert response.status_code == 201
    assert response.json["redirect"] == f"/applications/{app_id}#attachments"
    assert response.json["version"] == 1
    again = post_upload(client, app_id, "business_licence", PDF + b"%v2", headers=as_json())
    assert again.json["version"] == 2
    assert [r.version for r in rows_of(app_id)] == [1, 2]


def test_a_refused_type_is_explained_beside_the_file_and_nothing_is_kept(app, cast):
    app_id = factories.new_application(cast, attach=False)
    client = log_in(app, cast.applicant)
    page = post_upload(client, app_id, "business_licence", EXE, "营业执照.pdf")
    assert page.status_code == 422
    error = re.search(r'id="upload-error"[^>]*>(.*?)</div>', page.text, re.S)
    assert error is not None and "不支持的文件类型" in error.group(1)
    answer = post_upload(client, app_id, "business_licence", EXE, "营业执照.pdf", headers=as_json())
    assert answer.status_code == 422
    assert [(e["field"], e["code"]) for e in answer.json["errors"]] == [("file", "type_not_allowed")]
    assert rows_of(app_id) == []


@pytest.mark.parametrize(
    "category,data,field,code",
    [(None, PDF, "category", "required"), ("business_licence", None, "file", "required"),
     ("passport", PDF, "category", "unknown")],
)  # fmt: skip
def test_a_missing_part_is_named(app, cast, category, data, field, code):
    app_id = factories.new_application(cast, attach=False)
    answer = post_upload(log_in(app, cast.applicant), app_id, category, data, headers=as_json())
    assert answer.status_code == 422
    assert (field, code) in [(e["field"], e["code"]) for e in answer.json["errors"]]
    assert rows_of(app_id) == []


def test_a_file_over_the_limit_is_refused_with_the_limit_in_words(app, cast, monkeypatch):
    app_id = factories.new_application(cast, attach=False)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
    client = log_in(app, cast.applicant)
    page = post_upload(client, app_id, "equipment_list", PDF + b"0" * (2 * 1024 * 1024))
    assert page.status_code == 413
    assert "2 MB" in text_of(page)
    assert rows_of(app_id) == []


def test_only_the_applicant_uploads_and_only_while_the_application_is_with_them(app, cast):
    app_id = factories.new_application(cast)
    reviewer = log_in(app, cast.district_reviewer)
    fire(app_id, "submit", cast.applicant)
    assert 'id="upload-form"' not in reviewer.get(f"/applications/{app_id}").text
    assert post_upload(reviewer, app_id, "other", PDF).status_code == 403

    applicant = log_in(app, cast.applicant)
    assert 'id="upload-form"' not in applicant.get(f"/applications/{app_id}").text  # under review
    refused = post_upload(applicant, app_id, "other", PDF)
    assert refused.status_code == 303
    assert "只能" in text_of(applicant.get(refused.headers["Location"]))
    assert rows_of(app_id, "other") == []

    stranger = log_in(app, cast.other_applicant)
    assert post_upload(stranger, app_id, "other", PDF).status_code == 404


def test_downloads_are_attachments_for_those_who_may_see_the_application(app, cast):
    app_id = factories.new_application(cast)
    row = rows_of(app_id, "business_licence")[0]
    fire(app_id, "submit", cast.applicant)
    response = log_in(app, cast.district_reviewer).get(f"/attachments/{row.id}/download")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    hidden = log_in(app, cast.other_district_reviewer).get(f"/attachments/{row.id}/download")
    missing = log_in(app, cast.other_district_reviewer).get("/attachments/987654321/download")
    assert hidden.status_code == missing.status_code == 404
    assert app.test_client().get(f"/attachments/{row.id}/download").status_code == 302  # to the login page


def test_submit_on_the_page_names_each_missing_document(app, cast):
    app_id = factories.new_application(cast, attach=False)
    client = log_in(app, cast.applicant)
    response = client.post(f"/applications/{app_id}/transitions/submit", data={"submit-expected_version": "1"})
    assert response.status_code == 422
    flashed = text_of(response)
    assert "缺少必需附件：营业执照扫描件" in flashed and "须上传会计师事务所出具的专项审计报告" in flashed
    assert factories.state_of(app_id)[0] == "draft"


def test_the_csrf_token_is_required_from_the_header_or_the_form(app, cast, monkeypatch):
    guarded = csrf_app(app, monkeypatch)
    app_id = factories.new_application(cast, attach=False)
    client = guarded.test_client()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.text)
    assert token is not None
    credentials = {"username": cast.applicant.username, "password": factories.PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=credentials).status_code == 303
    page = client.get(f"/applications/{app_id}")
    token = re.search(r'id="upload-form".*?name="csrf_token" type="hidden" value="([^"]+)"', page.text, re.S)
    assert token is not None

    assert post_upload(client, app_id, "other", PDF).status_code == 400
    assert post_upload(client, app_id, "other", PDF, headers={"X-CSRFToken": "forged"}).status_code == 400
    expired = post_upload(client, app_id, "other", PDF, headers={**as_json(), "X-CSRFToken": "forged"})
    assert expired.status_code == 400
    assert [(e["field"], e["code"]) for e in expired.json["errors"]] == [("csrf_token", "csrf")]
    assert "表单已失效" in expired.json["errors"][0]["message"]
    assert rows_of(app_id) == []
    with_header = post_upload(client, app_id, "other", PDF, headers={**as_json(), "X-CSRFToken": token.group(1)})
    assert with_header.status_code == 201
    in_form = post_upload(client, app_id, "other", PDF + b"%v2", extra={"csrf_token": token.group(1)})
    assert in_form.status_code == 303
    assert [r.version for r in rows_of(app_id)] == [1, 2]


def test_a_killed_page_upload_registers_nothing(app, cast):
    app_id = factories.new_application(cast, attach=False)
    client = log_in(app, cast.applicant)
    data = PDF + b"z" * (2 * MB)
    boundary, body = encode_multipart({"category": "other", "file": FileStorage(io.BytesIO(data), "a.pdf")})
    response = client.post(
        f"/applications/{app_id}/attachments",
        input_stream=DiesHalfway(body, after=MB),
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=as_json(),
    )
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json["errors"]] == [("file", "malformed")]
    assert rows_of(app_id) == []
    assert not blob_store(app).exists(blob_key(hashlib.sha256(data).hexdigest()))


def test_a_50_mb_page_upload_is_never_held_in_memory(app, cast, tmp_path):
    app_id = factories.new_application(cast, attach=False)
    client = log_in(app, cast.applicant)
    path = tmp_path / "big.pdf"
    with path.open("wb") as out:
        for block in (PDF, *(bytes([i]) * MB for i in range(50))):
            out.write(block)
    with path.open("rb") as fh:
        response, peak = peak_allocation(
            lambda: client.post(
                f"/applications/{app_id}/attachments",
                data={"category": "other", "file": (fh, "big.pdf")},
                headers=as_json(),
            )
        )
    assert response.status_code == 201, response.json
    assert rows_of(app_id)[0].size == path.stat().st_size
    assert peak < 16 * MB, f"peak Python allocation {peak / MB:.1f} MB for a 50 MB upload"
