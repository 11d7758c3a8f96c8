"""The page side of revisions: the "changed since revision N you last read" partial and the "mark as read" form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import render_template
from sqlalchemy import select

from review.models import RevisionRead
from tests import factories
from tests.support.pages import log_in
from web.applications.revisions import changes_context
from workflow import operations
from workflow.db import db
from workflow.engine import fire
from workflow.visibility import get_visible


@pytest.fixture
def resubmitted(cast) -> int:
    """Returned by the district, corrected (one field, the equipment list replaced) and resubmitted: revision 2."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "returned")
    operations.update_draft(cast.applicant, app_id, {"innovation": "空压站群控"}, factories.state_of(app_id)[1])
    factories.upload(factories.flask_app(), cast, app_id, "equipment_list", data=factories.SAMPLE_PDF + b"% v2\n")
    fire(app_id, "resubmit", cast.applicant)
    return app_id


def _marker(user_id: int, app_id: int) -> int | None:
    with db.transaction() as session:
        return session.scalar(
            select(RevisionRead.number).where(RevisionRead.user_id == user_id, RevisionRead.application_id == app_id)
        )


def _render(app: Any, user: Any, app_id: int, lang: str = "zh") -> tuple[dict[str, Any] | None, str]:
    """The partial as the application page would include it, for `user`, in `lang`."""
    with app.test_request_context(f"/applications/{app_id}?lang={lang}"):
        application = get_visible(db.session, user, app_id)
        assert application is not None
        context = changes_context(user, application)
        html = render_template("_changes.html", changes=context)
    return context, re.sub(r"\s+", " ", html)


def test_the_reviewer_sees_what_changed_since_the_revision_they_last_read(app, cast, resubmitted):
    reviewer = cast.district_reviewer
    client = log_in(app, reviewer)
    response = client.post(f"/applications/{resubmitted}/revisions/read", data={"revision": "1"})
    assert response.status_code == 303 and response.headers["Location"] == f"/applications/{resubmitted}"
    assert _marker(reviewer.id, resubmitted) == 1

    context, html = _render(app, reviewer, resubmitted)
    assert context is not None and (context["since"], context["latest"]) == (1, 2)
    assert "自您上次阅读的第 1 版以来的变更" in html
    assert "<dt>其他（建设创新点）</dt>" in html and "<ins>空压站群控</ins>" in html
    assert re.search(r"<dt>用于能源管理中心信息化管理及控制系统设备清单[^<]*</dt> <dd><strong>已替换</strong>", html)
    # Issue 15 (4): no button to press: opening the page is what records the read.
    assert "/revisions/read" not in html and "<button" not in html

    _context, english = _render(app, reviewer, resubmitted, "en")
    assert "Changed since revision 1, which you last read" in english and "<dt>Other: innovations</dt>" in english

    page = re.sub(r"\s+", " ", client.get(f"/applications/{resubmitted}").text)  # the card on the page itself
    assert 'id="changes"' in page and "<ins>空压站群控</ins>" in page


def test_marking_the_latest_read_leaves_nothing_to_show(app, cast, resubmitted):
    reviewer = cast.district_reviewer
    client = log_in(app, reviewer)
    response = client.post(f"/applications/{resubmitted}/revisions/read", data={"revision": "2"}, follow_redirects=True)
    assert "已将第 2 版标记为已读" in response.text
    assert _marker(reviewer.id, resubmitted) == 2
    context, html = _render(app, reviewer, resubmitted)
    assert context is None and html.strip() == ""


def test_a_reader_who_has_read_nothing_sees_the_changes_since_the_previous_submission(app, cast, resubmitted):
    """Issue 15 (4): never having read a revision, the reader compares the latest with the one before it."""
    context, html = _render(app, cast.municipal_reviewer, resubmitted)
    assert context is not None and not context["first_read"] and not context["read_before"]
    assert (context["since"], context["latest"]) == (1, 2)
    assert "<ins>空压站群控</ins>" in html and "<dt>其他（建设创新点）</dt>" in html


def test_a_reader_of_a_first_submission_is_told_everything_is_new(app, cast):
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    context, html = _render(app, cast.district_reviewer, app_id)
    assert context is not None and context["first_read"] and context["since"] == 0
    assert "您尚未阅读：第 1 版" in html and "<del>" not in html


def test_the_applicant_gets_no_changes_panel(app, cast, resubmitted):
    context, _html = _render(app, cast.applicant, resubmitted)
    assert context is None


def test_the_supplement_answers_are_shown_item_by_item(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "supplement_requested")
    log_in(app, cast.municipal_reviewer).post(f"/applications/{app_id}/revisions/read", data={"revision": "1"})
    factories.upload(factories.flask_app(), cast, app_id, "supplement")
    fire(app_id, "supply", cast.applicant, factories.payload_for("supply", app_id))
    _context, html = _render(app, cast.municipal_reviewer, app_id)
    assert "补充材料答复（第 2 版）" in html
    assert "<dt>1. 会计师事务所专项审计报告</dt><dd>已上传专项审计报告</dd>" in html
    assert re.search(r"<dt>补充材料</dt> <dd><strong>新增</strong>", html)


def test_marking_read_on_an_application_the_reader_may_not_see_is_not_found(app, cast, resubmitted):
    other = log_in(app, cast.other_district_reviewer)
    response = other.post(f"/applications/{resubmitted}/revisions/read", data={"revision": "1"})
    assert response.status_code == 404
    assert _marker(cast.other_district_reviewer.id, resubmitted) is None


@pytest.mark.parametrize("revision", ["", "0", "3", "x"])
def test_a_bad_revision_number_reloads_the_page_and_marks_nothing(app, cast, resubmitted, revision):
    client = log_in(app, cast.district_reviewer)
    response = client.post(f"/applications/{resubmitted}/revisions/read", data={"revision": revision})
    assert response.status_code == 303 and response.headers["Location"] == f"/applications/{resubmitted}"
    assert _marker(cast.district_reviewer.id, resubmitted) is None
