"""The binder built by a worker from the application's page (issue 13 item 4): asked for, its progress recorded
attachment by attachment, downloaded by whoever may see the application; a failure is recorded, nothing kept."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select

from applications import binder_builds
from applications.models import Attachment, BinderBuild
from tests import factories
from tests.support.pages import log_in
from web.core.extensions import blob_store
from workflow.db import db


def test_the_page_asks_the_worker_shows_progress_and_serves_the_binder(app, cast):
    app_id = factories.new_application(cast)
    applicant = log_in(app, cast.applicant)
    page = applicant.get(f"/applications/{app_id}")
    assert 'id="binder"' in page.text and 'id="binder-build-button"' in page.text
    asked = applicant.post(f"/applications/{app_id}/binder", data={})
    assert asked.status_code == 303 and asked.headers["Location"].endswith(f"/applications/{app_id}#binder")
    with db.transaction() as session:
        build = binder_builds.latest(session, app_id)
        assert build is not None
        attachments = session.scalars(select(Attachment).where(Attachment.application_id == app_id)).all()
        build_id = build.id
    status = applicant.get(f"/applications/{app_id}/binder/{build_id}").get_json()
    assert (status["status"], status["done"], status["total"]) == ("done", len(attachments), len(attachments))
    shown = applicant.get(f"/applications/{app_id}")
    assert 'id="binder-progress"' in shown.text and status["download"] in shown.text
    download = applicant.get(status["download"])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    headings = [p.text for p in Document(io.BytesIO(download.data)).paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "一、项目申请表"
    stranger = log_in(app, cast.other_applicant)
    assert stranger.get(f"/applications/{app_id}/binder/{build_id}").status_code == 404
    assert stranger.get(status["download"]).status_code == 404
    assert stranger.post(f"/applications/{app_id}/binder", data={}).status_code == 404
    again = binder_builds.run(build_id, blob_store(app))  # delivered again: done, not built twice
    assert again is not None and again.status == "done"


def test_a_build_that_fails_says_so_and_keeps_nothing(app, cast):
    app_id = factories.new_application(cast)
    with db.transaction() as session:
        key = session.scalars(select(Attachment.blob_key).where(Attachment.application_id == app_id)).first()
    blob_store(app).delete(key)  # an attachment's bytes are gone
    log_in(app, cast.applicant).post(f"/applications/{app_id}/binder", data={})
    with db.transaction() as session:
        build = session.scalars(select(BinderBuild).where(BinderBuild.application_id == app_id)).one()
        assert build.status == "failed" and build.error and build.blob_key is None
