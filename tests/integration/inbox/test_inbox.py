"""The inbox (issue 14 item 1): each reader's own notifications over the API and on a page, newest first, paged,
with the unread count (also in every page's header); the comment or points addressed to the reader."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.support.api import bearer, problem
from tests.support.openapi import Conformance
from tests.support.pages import log_in, text_of
from workflow.engine import fire

PREFIX = "/api/v1"


@pytest.fixture
def conform(client) -> Conformance:  # type: ignore[no-untyped-def]
    return Conformance(client.get(f"{PREFIX}/openapi.json").get_json())


def _returned(cast) -> int:  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    fire(
        app_id, "return_for_correction", cast.district_reviewer, factories.payload_for("return_for_correction", app_id)
    )
    return app_id


def _inbox(client, user, **params: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.get(f"{PREFIX}/inbox", query_string=params, headers=bearer(client, user))


def test_the_applicant_reads_the_return_and_its_comment_newest_first(client, cast, conform):
    app_id = _returned(cast)
    listed = _inbox(client, cast.applicant)
    conform.check(listed, "/inbox", "get")
    body = listed.get_json()
    assert (body["total"], body["unread"]) == (2, 2)  # submitted, then returned
    newest, older = body["items"]
    assert newest["kind"] == "your_turn" and older["kind"] == "status_changed"
    assert newest["event"]["trigger"] == "return_for_correction"
    assert newest["note"] == "请补充盖章页"  # the district's comment, addressed to the applicant
    assert newest["application"]["project_name"] == "能源管理中心建设项目"
    assert newest["link"] == f"/applications/{app_id}" and newest["read_at"] is None


def test_a_supplement_request_tells_the_points_and_the_deadline(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    payload = factories.payload_for("request_supplement", app_id)
    fire(app_id, "request_supplement", cast.municipal_reviewer, payload)
    newest = _inbox(client, cast.applicant).get_json()["items"][0]
    assert newest["note"] == "1. 会计师事务所专项审计报告\n2. 设备清单"
    assert newest["due_on"] == payload["due_date"]


def test_reading_one_then_all_and_someone_elses_is_not_found(client, cast, conform):
    _returned(cast)
    first = _inbox(client, cast.applicant).get_json()["items"][0]
    marked = client.post(f"{PREFIX}/inbox/{first['id']}/read", headers=bearer(client, cast.applicant))
    conform.check(marked, "/inbox/{notification_id}/read", "post")
    assert marked.get_json()["unread"] == 1
    again = client.post(f"{PREFIX}/inbox/{first['id']}/read", headers=bearer(client, cast.applicant))
    assert again.get_json()["read_at"] == marked.get_json()["read_at"]  # read once: the time stays
    theirs = client.post(f"{PREFIX}/inbox/{first['id']}/read", headers=bearer(client, cast.district_reviewer))
    problem(theirs, 404, "not_found")
    unread = _inbox(client, cast.applicant, unread="true").get_json()
    assert unread["total"] == 1 and all(i["read_at"] is None for i in unread["items"])
    everything = client.post(f"{PREFIX}/inbox/read-all", headers=bearer(client, cast.applicant))
    conform.check(everything, "/inbox/read-all", "post")
    assert everything.get_json() == {"marked": 1, "unread": 0}
    assert _inbox(client, cast.applicant).get_json()["unread"] == 0


def test_each_reader_sees_only_their_own(client, cast):
    _returned(cast)
    district = _inbox(client, cast.district_reviewer).get_json()
    assert district["total"] == 1 and district["items"][0]["event"]["trigger"] == "submit"
    for stranger in (cast.other_district_reviewer, cast.other_applicant, cast.auditor, cast.admin):
        assert _inbox(client, stranger).get_json()["total"] == 0


def test_paging_and_its_limits(client, cast):
    for _ in range(3):
        _returned(cast)
    page = _inbox(client, cast.applicant, page=2, per_page=4).get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (6, 2, 4, 2)
    problem(_inbox(client, cast.applicant, per_page=101), 422, "invalid_input")
    problem(_inbox(client, cast.applicant, unread="maybe"), 422, "invalid_input")


def test_a_draft_award_reaches_the_second_officer_not_the_applicant(client, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "award_proposed")
    second = _inbox(client, cast.finance_officer2).get_json()["items"][0]
    assert second["event"]["trigger"] == "propose_award" and second["kind"] == "your_turn"
    triggers = [i["event"]["trigger"] for i in _inbox(client, cast.applicant).get_json()["items"] if i["event"]]
    assert "propose_award" not in triggers
    proposer = [i["event"]["trigger"] for i in _inbox(client, cast.finance_officer).get_json()["items"] if i["event"]]
    assert "propose_award" not in proposer  # four eyes: the award does not wait for the one who proposed it


def test_the_page_lists_them_marks_read_and_the_header_counts(app, cast):
    app_id = _returned(cast)
    browser = log_in(app, cast.applicant)
    page = browser.get("/inbox")
    assert page.status_code == 200
    text = text_of(page)
    assert "请补充盖章页" in text and "能源管理中心建设项目" in text
    assert 'id="inbox-unread"' in page.text and ">2</span>" in page.text  # the header's count
    first = page.text.split('data-id="', 1)[1].split('"', 1)[0]
    opened = browser.post(f"/inbox/{first}/read", data={"open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/applications/{app_id}")
    elsewhere = browser.get(f"/applications/{app_id}")
    assert 'id="inbox-unread"' in elsewhere.text and ">1</span>" in elsewhere.text  # every page's header
    browser.post("/inbox/read-all")
    assert ">0</span>" in browser.get("/inbox").text


def test_the_page_in_english(app, cast):
    _returned(cast)
    page = log_in(app, cast.applicant, lang="en").get("/inbox")
    text = text_of(page)
    assert "Notifications" in text and "2 unread of 2" in text


def test_the_administrator_previews_every_template_in_both_languages(app, cast):
    from notifications import mail

    browser = log_in(app, cast.admin)
    page = browser.get("/admin/mail/templates")
    assert page.status_code == 200
    for kind, language in mail.template_names():
        assert f'id="preview-{kind}-{language}"' in page.text
        frame = browser.get(f"/admin/mail/templates/{kind}/{language}.html")
        assert frame.status_code == 200 and frame.mimetype == "text/html"
        assert "script-src" not in frame.headers["Content-Security-Policy"]  # nothing in a preview runs
        assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert browser.get("/admin/mail/templates/nothing/zh.html").status_code == 404
    assert log_in(app, cast.finance_officer).get("/admin/mail/templates").status_code == 403
    assert "/admin/mail/templates" in browser.get("/inbox").text  # the administrator's menu has it


def test_mail_settings_on_the_page_say_what_is_wrong(app, cast, client):
    browser = log_in(app, cast.applicant)
    page = browser.get("/inbox/preferences")
    assert page.status_code == 200 and 'data-kind="deadline_near"' in page.text
    bad = browser.post("/inbox/preferences", data={"email": "not-an-address", "language": "zh", "phone": "abc"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.text
    good = browser.post(
        "/inbox/preferences",
        data={"email": "new@example.test", "language": "en", "phone": "+86 138 0000 0000", "mode_your_turn": "digest",
              "mode_status_changed": "never", "mode_panel_assigned": "immediate", "mode_site_visit": "immediate",
              "mode_approval_waiting": "immediate", "mode_queue_digest": "immediate"},
    )  # fmt: skip
    assert good.status_code == 302
    saved = client.get("/api/v1/inbox/preferences", headers=bearer(client, cast.applicant)).get_json()
    assert (saved["email"], saved["language"], saved["phone"]) == ("new@example.test", "en", "+86 138 0000 0000")
    assert saved["modes"]["your_turn"] == "digest" and saved["modes"]["status_changed"] == "never"
    assert saved["modes"]["deadline_near"] == "immediate"
