"""Attachments through the API: upload, list and download on the local folder and on S3, and every refusal."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from applications.models import Attachment
from storage.blobs import S3BlobStore, from_url
from storage.multipart import blob_key
from tests import factories
from tests.support.api import bearer
from tests.support.openapi import Conformance
from tests.support.uploads import MB, DiesHalfway, peak_allocation, upload
from web.core.extensions import blob_store
from workflow.db import db
from workflow.models import AuditEvent

PREFIX = "/api/v1"
PDF = factories.SAMPLE_PDF
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"This program cannot be run"
HTML = b"<!doctype html><html><body><script>fetch('/api/v1/applications')</script></body></html>"


def listed(client: Any, headers: dict[str, str], app_id: int, every: bool = False) -> Any:
    return client.get(f"{PREFIX}/applications/{app_id}/attachments" + ("?all=1" if every else ""), headers=headers)


# Checks read in their own short transactions, as a request would: nothing stays open across requests.
def rows_of(app_id: int) -> list[Attachment]:
    with db.transaction() as session:
        return list(session.scalars(select(Attachment).where(Attachment.application_id == app_id)))


def outcomes(app_id: int) -> list[str]:
    with db.transaction() as session:
        query = select(AuditEvent.outcome).where(AuditEvent.application_id == app_id).order_by(AuditEvent.seq)
        return list(session.scalars(query))


@pytest.fixture
def document(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return json.loads(client.get(f"{PREFIX}/openapi.json").get_data(as_text=True))


@pytest.fixture
def conform(document) -> Conformance:  # type: ignore[no-untyped-def]
    return Conformance(document)


@pytest.fixture(scope="module")
def s3_url(s3_endpoint: str) -> str:
    return f"{s3_endpoint}/emc-attachments"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app's blob store: its local folder, or for this test the S3 endpoint; restored afterwards."""
    if request.param == "local":
        yield "local"
        return
    saved = app.extensions.get("blobs")
    app.extensions["blobs"] = from_url(request.getfixturevalue("s3_url"))
    try:
        yield "s3"
    finally:
        app.extensions["blobs"] = saved


def test_upload_list_and_download_on_each_backend(app, client, cast, backend, conform):
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    created = upload(client, applicant, app_id, "business_licence", PDF, "营业执照（副本）.pdf")
    conform.check(created, "/applications/{application_id}/attachments", "post")
    assert created.status_code == 201
    body = created.get_json()
    assert {k: body[k] for k in ("category", "filename", "content_type", "size", "sha256", "version")} == {
        "category": "business_licence",
        "filename": "营业执照（副本）.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "version": 1,
    }
    store = blob_store(app)
    assert isinstance(store, S3BlobStore) == (backend == "s3")
    assert store.exists(blob_key(body["sha256"]))

    items = listed(client, applicant, app_id)
    conform.check(items, "/applications/{application_id}/attachments", "get")
    assert [item["id"] for item in items.get_json()["items"]] == [body["id"]]
    assert "business_licence" not in items.get_json()["missing"]

    download = client.get(created.headers["Location"], headers=applicant)
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('营业执照（副本）.pdf')}" in disposition


def test_a_reupload_keeps_the_old_version(client, cast):
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    old = upload(client, applicant, app_id, "equipment_list", b"name,model\nmeter,DTZ341\n", "设备清单.csv").get_json()
    new = upload(client, applicant, app_id, "equipment_list", b"name,model\nmeter,DTZ666\n", "设备清单.csv").get_json()
    assert (old["version"], new["version"], new["content_type"]) == (1, 2, "text/csv; charset=utf-8")
    assert [i["id"] for i in listed(client, applicant, app_id).get_json()["items"]] == [new["id"]]
    every = listed(client, applicant, app_id, every=True).get_json()["items"]
    assert {(i["id"], i["version"], i["current"]) for i in every} == {(old["id"], 1, False), (new["id"], 2, True)}
    assert client.get(old["download_url"], headers=applicant).data == b"name,model\nmeter,DTZ341\n"


@pytest.mark.parametrize(
    "data,filename,detected",
    [(EXE, "营业执照.pdf", "application/x-msdownload"), (HTML, "报告.pdf", "text/html"), (b"", "空.pdf", "x-empty")],
)
def test_the_type_is_decided_by_the_bytes_not_the_name(client, cast, conform, data, filename, detected):
    app_id = factories.new_application(cast, attach=False)
    refused = upload(client, bearer(client, cast.applicant), app_id, "business_licence", data, filename)
    conform.check(refused, "/applications/{application_id}/attachments", "post")
    assert refused.status_code == 422
    [error] = refused.get_json()["errors"]
    assert (error["field"], error["code"]) == ("file", "type_not_allowed")
    assert detected in error["message"]
    assert rows_of(app_id) == []
    assert outcomes(app_id) == ["created", "denied"]


def test_a_pdf_named_html_is_kept_as_a_pdf_with_a_name_that_says_so(client, cast):
    app_id = factories.new_application(cast, attach=False)
    stored = upload(client, bearer(client, cast.applicant), app_id, "other", PDF, "page.html").get_json()
    assert (stored["content_type"], stored["filename"]) == ("application/pdf", "page.html.pdf")


@pytest.mark.parametrize(
    "fields,field,code",
    [
        ({"file": (io.BytesIO(PDF), "a.pdf")}, "category", "required"),
        ({"category": "photos", "file": (io.BytesIO(PDF), "a.pdf")}, "category", "unknown"),
        ({"category": "other"}, "file", "required"),
        ({"category": "other", "file": (io.BytesIO(b""), "")}, "file", "required"),  # a form's empty file input
        ({"category": "other", "file": (io.BytesIO(PDF), "a.pdf"), "note": "x"}, "note", "unknown_field"),
    ],
)
def test_missing_and_unknown_parts_are_named(client, cast, conform, fields, field, code):
    app_id = factories.new_application(cast, attach=False)
    response = client.post(
        f"{PREFIX}/applications/{app_id}/attachments",
        data=fields,
        content_type="multipart/form-data",
        headers=bearer(client, cast.applicant),
    )
    conform.check(response, "/applications/{application_id}/attachments", "post")
    assert response.status_code == 422
    assert (field, code) in {(e["field"], e["code"]) for e in response.get_json()["errors"]}


def test_only_multipart_is_accepted(client, cast, conform):
    app_id = factories.new_application(cast, attach=False)
    response = client.post(
        f"{PREFIX}/applications/{app_id}/attachments",
        json={"category": "other"},
        headers=bearer(client, cast.applicant),
    )
    conform.check(response, "/applications/{application_id}/attachments", "post")
    assert response.status_code == 415


def test_the_size_limit_refuses_with_413_and_keeps_nothing(app, client, cast, conform, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", MB)
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    at_limit = PDF + b"0" * (MB - len(PDF))
    assert upload(client, applicant, app_id, "other", at_limit, "正好.pdf").status_code == 201
    for size in (MB + 1, 3 * MB):  # streamed past the limit; declared too large by Content-Length
        refused = upload(client, applicant, app_id, "other", at_limit + b"0" * (size - MB), "太大.pdf")
        conform.check(refused, "/applications/{application_id}/attachments", "post")
        assert refused.status_code == 413
        assert refused.get_json()["code"] == "too_large"
        assert refused.get_json()["max_bytes"] == MB
    assert [(a.size, a.version) for a in rows_of(app_id)] == [(MB, 1)]


def test_other_organisations_and_other_districts_see_nothing(client, cast, conform):
    app_id = factories.new_application(cast)
    attachment = upload(client, bearer(client, cast.applicant), app_id, "other", PDF, "a.pdf").get_json()
    reviewer = bearer(client, cast.district_reviewer)
    assert listed(client, reviewer, app_id).status_code == 404  # a draft is the applicant's alone
    factories.drive_to(cast, app_id, "district_review")
    assert listed(client, reviewer, app_id).status_code == 200
    assert client.get(attachment["download_url"], headers=reviewer).data == PDF

    for outsider in (cast.other_applicant, cast.other_district_reviewer):
        headers = bearer(client, outsider)
        refused = listed(client, headers, app_id)
        conform.check(refused, "/applications/{application_id}/attachments", "get")
        assert refused.status_code == 404
        download = client.get(attachment["download_url"], headers=headers)
        conform.check(download, "/attachments/{attachment_id}/download", "get")
        assert download.status_code == 404
        assert upload(client, headers, app_id, "other", PDF, "b.pdf").status_code == 404
    missing = client.get(f"{PREFIX}/attachments/{2**40}/download", headers=reviewer)
    assert missing.status_code == 404


def test_who_may_upload_when(client, cast, conform):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    path = "/applications/{application_id}/attachments"
    reviewer = upload(client, bearer(client, cast.district_reviewer), app_id, "other", PDF, "a.pdf")
    conform.check(reviewer, path, "post")
    assert reviewer.status_code == 403
    under_review = upload(client, bearer(client, cast.applicant), app_id, "other", PDF, "a.pdf")
    conform.check(under_review, path, "post")
    assert (under_review.status_code, under_review.get_json()["state"]) == (409, "district_review")
    factories.drive_to(cast, app_id, "supplement_requested")
    supplied = upload(client, bearer(client, cast.applicant), app_id, "supplement", PDF, "补充材料.pdf")
    assert supplied.status_code == 201


def test_history_shows_the_upload(client, cast, conform):
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    upload(client, applicant, app_id, "other", PDF, "a.pdf")
    history = client.get(f"{PREFIX}/applications/{app_id}/history", headers=applicant)
    conform.check(history, "/applications/{application_id}/history", "get")
    attached = [e for e in history.get_json()["items"] if e["outcome"] == "attached"]
    assert [e["payload"]["filename"] for e in attached] == ["a.pdf"]


def test_a_list_flag_that_is_not_0_or_1_is_refused(client, cast, conform):
    app_id = factories.new_application(cast, attach=False)
    response = client.get(f"{PREFIX}/applications/{app_id}/attachments?all=yes", headers=bearer(client, cast.applicant))
    conform.check(response, "/applications/{application_id}/attachments", "get")
    assert response.status_code == 422


# --- a killed upload, a failure after the bytes are stored, and memory ----------------------------------------


def test_a_killed_upload_leaves_no_attachment(app, client, cast):
    app_id = factories.new_application(cast, attach=False)
    data = PDF + b"z" * (2 * MB)
    boundary, body = encode_multipart({"category": "other", "file": FileStorage(io.BytesIO(data), "a.pdf")})
    response = client.post(
        f"{PREFIX}/applications/{app_id}/attachments",
        input_stream=DiesHalfway(body, after=MB),
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=bearer(client, cast.applicant),
    )
    assert response.status_code == 400
    assert rows_of(app_id) == []
    assert "attached" not in outcomes(app_id)
    assert not blob_store(app).exists(blob_key(hashlib.sha256(data).hexdigest()))
    assert list((Path(app.instance_path) / "uploads").iterdir()) == []  # the temporary file went with the request


def test_a_failure_after_the_blob_is_stored_leaves_no_row(app, client, cast, monkeypatch):
    from workflow import audit

    real_append = audit.append

    def broken_append(session, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["outcome"] == "attached":
            raise RuntimeError("database went away mid-transaction")
        return real_append(session, **kwargs)

    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    data = PDF + b"unique to this test"
    monkeypatch.setattr(audit, "append", broken_append)
    assert upload(client, applicant, app_id, "other", data, "a.pdf").status_code == 500
    assert rows_of(app_id) == []
    # The bytes stay behind under their hash: harmless, and the retry reuses them.
    assert blob_store(app).exists(blob_key(hashlib.sha256(data).hexdigest()))
    monkeypatch.setattr(audit, "append", real_append)
    assert upload(client, applicant, app_id, "other", data, "a.pdf").status_code == 201
    assert len(rows_of(app_id)) == 1


def test_a_50_mb_upload_is_never_held_in_memory(client, cast, tmp_path):
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    path, digest = tmp_path / "big.pdf", hashlib.sha256()
    with path.open("wb") as out:
        for block in (PDF, *(bytes([i]) * MB for i in range(50))):
            out.write(block)
            digest.update(block)
    with path.open("rb") as fh:
        response, peak = peak_allocation(lambda: upload_file(client, applicant, app_id, fh))
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["size"], response.get_json()["sha256"]) == (path.stat().st_size, digest.hexdigest())
    assert peak < 16 * MB, f"peak Python allocation {peak / MB:.1f} MB for a 50 MB upload"


def upload_file(client: Any, headers: dict[str, str], app_id: int, fh: Any) -> Any:
    return client.post(
        f"{PREFIX}/applications/{app_id}/attachments",
        data={"category": "other", "file": (fh, "big.pdf")},
        headers=headers,
    )
