"""Downloads are audited (issue 16): every file served that is not an attachment — a checklist photo, the built
binder, the documents printed from the application — leaves one `file_read` event naming who read which file
(its kind, its row, the SHA-256 of the bytes served); someone who may not see it gets the 404 of a missing id and
leaves no event. (Attachments have their own `attachment_read`: tests/integration/core/test_upload_corpus.py.)"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from applications import binder_builds
from applications.models import BinderBuild
from review import photos
from tests import factories
from tests.support.api import bearer
from tests.support.audit import events_of
from tests.support.authorisers import PERSON
from tests.support.pages import log_in
from workflow import operations
from workflow.db import db
from workflow.models import AuditEvent

PREFIX = "/api/v1"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def reads(app_id: int) -> list[AuditEvent]:
    return events_of(app_id, "file_read")


def read_of(event: AuditEvent) -> tuple[Any, ...]:
    payload = event.payload
    return event.actor_id, payload["file"], payload["id"], payload["sha256"], payload["how"]


def downloaded_twice(app: Any, client: Any, who: Any, page_url: str, file: str, file_id: int | None) -> list[Any]:
    """Download a document through the API, then the page, as `who`: the read each should have recorded."""
    by_api = client.get(f"{PREFIX}{page_url}", headers=bearer(client, who))
    by_page = log_in(app, who).get(page_url)
    assert (by_api.status_code, by_page.status_code) == (200, 200)
    return [(who.id, file, file_id, sha256(answer.data), "download") for answer in (by_api, by_page)]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- checklist photos -------------------------------------------------------------------------------------------


def _photo(cast: factories.Cast) -> tuple[int, int]:
    """An application on its visit's day with one photo on the leading expert's sheet: (application, photo)."""
    app_id = factories.on_site_visit_day(cast)
    photo = photos.add_photo(cast.expert, app_id, "2.1", JPEG_BYTES, factories.blob_store(), client_id="IMG_0001")
    return app_id, photo.id


def test_a_checklist_photo_download_is_audited_and_a_refused_one_is_not(client, cast):
    app_id, photo_id = _photo(cast)
    url = f"{PREFIX}/checklist-photos/{photo_id}"
    for barred in (cast.applicant, cast.district_reviewer, cast.expert2):
        assert client.get(url, headers=bearer(client, barred)).status_code == 404
    assert client.get(f"{PREFIX}/checklist-photos/999999", headers=bearer(client, cast.expert)).status_code == 404
    assert reads(app_id) == []
    for reader in (cast.expert, cast.municipal_reviewer):
        fetched = client.get(url, headers=bearer(client, reader))
        assert fetched.status_code == 200 and fetched.data == JPEG_BYTES
    assert [read_of(e) for e in reads(app_id)] == [
        (cast.expert.id, "checklist_photo", photo_id, sha256(JPEG_BYTES), "download"),
        (cast.municipal_reviewer.id, "checklist_photo", photo_id, sha256(JPEG_BYTES), "download"),
    ]


def test_the_experts_page_view_of_their_photo_is_audited(app, cast):
    app_id, photo_id = _photo(cast)
    url = f"/applications/{app_id}/checklist/photos/{photo_id}"
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    # Another expert on the panel, their own sheet not saved: not theirs to open on this page.
    assert log_in(app, cast.expert2).get(url).status_code == 404
    assert log_in(app, cast.municipal_reviewer).get(url).status_code == 404
    assert reads(app_id) == []
    shown = log_in(app, cast.expert).get(url)
    assert shown.status_code == 200 and shown.data == JPEG_BYTES
    assert [read_of(e) for e in reads(app_id)] == [
        (cast.expert.id, "checklist_photo", photo_id, sha256(JPEG_BYTES), "view")
    ]


# --- the binder -------------------------------------------------------------------------------------------------


def test_a_binder_download_is_audited_and_a_refused_one_is_not(app, cast):
    app_id = factories.new_application(cast)
    applicant = log_in(app, cast.applicant)
    assert applicant.post(f"/applications/{app_id}/binder", data={}).status_code == 303
    with db.transaction() as session:
        build = binder_builds.latest(session, app_id)
        assert build is not None and build.status == "done"
        build_id, built_sha = build.id, build.sha256
    url = f"/applications/{app_id}/binder/{build_id}.docx"
    assert log_in(app, cast.other_applicant).get(url).status_code == 404
    assert applicant.get(f"/applications/{app_id}/binder/{build_id + 1}.docx").status_code == 404
    assert reads(app_id) == []
    download = applicant.get(url)
    assert download.status_code == 200 and sha256(download.data) == built_sha
    assert [read_of(e) for e in reads(app_id)] == [(cast.applicant.id, "binder", build_id, built_sha, "download")]


def test_a_binder_still_being_built_is_not_served_and_not_audited(app, cast):
    app_id = factories.new_application(cast)
    build_id = binder_builds.request(cast.applicant, app_id)
    with db.transaction() as session:
        row = session.get(BinderBuild, build_id)
        assert row is not None
        row.status, row.blob_key = "building", None
    assert log_in(app, cast.applicant).get(f"/applications/{app_id}/binder/{build_id}.docx").status_code == 404
    assert reads(app_id) == []


# --- the printed documents ---------------------------------------------------------------------------------------


def test_the_credit_letter_download_is_audited_on_the_page_and_the_api(app, client, cast):
    """The letter holds the authoriser's clear ID number: each time it is handed out again is on record."""
    app_id = factories.new_application(cast)
    page_url = f"/applications/{app_id}/documents/credit-authorisation"
    api_url = f"{PREFIX}{page_url}"
    applicant = bearer(client, cast.applicant)
    assert client.post(api_url, json=PERSON, headers=applicant).status_code == 200  # audited as authoriser_set
    assert reads(app_id) == []
    assert client.get(api_url, headers=bearer(client, cast.other_applicant)).status_code == 404
    assert log_in(app, cast.other_applicant).get(page_url).status_code == 404
    factories.drive_to(cast, app_id, "district_review")
    assert client.get(api_url, headers=bearer(client, cast.district_reviewer)).status_code == 403  # not theirs
    assert reads(app_id) == []
    with db.transaction() as session:
        [authoriser_id] = session.scalars(
            select(AuditEvent.payload["authoriser_id"].as_integer()).where(
                AuditEvent.application_id == app_id, AuditEvent.outcome == "authoriser_set"
            )
        ).all()
    expected = downloaded_twice(app, client, cast.applicant, page_url, "credit_authorisation", authoriser_id)
    assert [read_of(e) for e in reads(app_id)] == expected


def test_no_letter_recorded_yet_writes_no_read(app, client, cast):
    app_id = factories.new_application(cast)
    url = f"/applications/{app_id}/documents/credit-authorisation"
    assert client.get(f"{PREFIX}{url}", headers=bearer(client, cast.applicant)).status_code == 404
    assert log_in(app, cast.applicant).get(url).status_code == 303
    assert reads(app_id) == []


def test_the_commitment_download_is_audited_on_the_page_and_the_api(app, client, cast):
    app_id = factories.new_application(cast)
    page_url = f"/applications/{app_id}/documents/authenticity-commitment"
    assert client.get(f"{PREFIX}{page_url}", headers=bearer(client, cast.other_applicant)).status_code == 404
    assert log_in(app, cast.other_applicant).get(page_url).status_code == 404
    assert reads(app_id) == []
    expected = downloaded_twice(app, client, cast.applicant, page_url, "authenticity_commitment", None)
    assert [read_of(e) for e in reads(app_id)] == expected


def test_the_application_form_download_is_audited_for_each_reader(app, client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    page_url = f"/applications/{app_id}/documents/application-form"
    assert log_in(app, cast.other_district_reviewer).get(page_url).status_code == 404
    assert client.get(f"{PREFIX}{page_url}", headers=bearer(client, cast.other_applicant)).status_code == 404
    assert reads(app_id) == []
    by_page = log_in(app, cast.district_reviewer).get(page_url)
    by_api = client.get(f"{PREFIX}{page_url}", headers=bearer(client, cast.applicant))
    assert (by_page.status_code, by_api.status_code) == (200, 200)
    assert [read_of(e) for e in reads(app_id)] == [
        (cast.district_reviewer.id, "application_form", None, sha256(by_page.data), "download"),
        (cast.applicant.id, "application_form", None, sha256(by_api.data), "download"),
    ]


def test_a_programme_without_annex_2_serves_nothing_and_audits_nothing(client, cast):
    app_id = factories.new_application(cast, programme="monitoring-fund")
    url = f"{PREFIX}/applications/{app_id}/documents/application-form"
    assert client.get(url, headers=bearer(client, cast.applicant)).status_code == 404
    assert reads(app_id) == []


# --- the history shows them, in words; outsiders see only their own reads ---------------------------------------


def test_the_history_names_each_read_and_the_applicant_sees_only_their_own(app, client, cast):
    app_id, photo_id = _photo(cast)
    assert client.get(f"{PREFIX}/checklist-photos/{photo_id}", headers=bearer(client, cast.expert)).status_code == 200
    commitment = f"/applications/{app_id}/documents/authenticity-commitment"
    assert client.get(f"{PREFIX}{commitment}", headers=bearer(client, cast.applicant)).status_code == 200
    page = log_in(app, cast.municipal_reviewer, lang="en").get(f"/applications/{app_id}")
    assert "Downloaded: Site verification photo" in page.text and "Downloaded: Authenticity commitment" in page.text
    history = client.get(f"{PREFIX}/applications/{app_id}/history", headers=bearer(client, cast.applicant))
    assert history.status_code == 200
    seen = [(e["outcome"], e["payload"].get("file")) for e in history.get_json()["items"] if "read" in e["outcome"]]
    assert seen == [("file_read", "authenticity_commitment")]  # the expert's reading of the photo is not theirs
