"""Mail that keeps its promise (issue 14 items 2 and 5), over a real SMTP server on 127.0.0.1: in the reader's
language with a plain and an HTML part, by their preference (deadlines always), once per reader per occasion,
retried with backoff when the server is away, dead after the last attempt or at once when refused for good, sent
again by an administrator; nothing for a command that was rolled back."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from notifications import delivery
from notifications.channels import SmtpChannel
from notifications.models import Delivery, Notification
from tests import factories
from tests.support.api import bearer, problem
from tests.support.pages import log_in
from web.core import notices
from workflow import outbox
from workflow.db import db, utcnow
from workflow.engine import fire
from workflow.errors import GuardFailed


def _deliveries(user_id: int) -> list[Delivery]:
    with db.transaction() as session:
        rows = session.scalars(select(Delivery).where(Delivery.user_id == user_id).order_by(Delivery.id)).all()
        session.expunge_all()
        return list(rows)


def _set(user, **values) -> None:  # type: ignore[no-untyped-def]
    from workflow.accounts import User

    with db.transaction() as session:
        row = session.get(User, user.id)
        for name, value in values.items():
            setattr(row, name, value)


def test_mail_in_the_readers_language_with_both_parts(cast, mailbox):
    _set(cast.district_reviewer, language="en")
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    by_to = {m.envelope_to[0]: m for m in mailbox.messages()}
    english = by_to[cast.district_reviewer.email]
    chinese = by_to[cast.applicant.email]
    assert english.message["Subject"] == "[To do] 能源管理中心建设项目: Submit"
    assert "It is now" in english.part("plain") and '<html lang="en">' in english.part("html")
    assert english.message["Content-Language"] == "en" and chinese.message["Content-Language"] == "zh-CN"
    assert chinese.message["Subject"].startswith("【进度】能源管理中心建设项目")
    assert "您单位的申请" in chinese.part("plain")
    assert f"/applications/{app_id}" in chinese.part("plain")
    assert chinese.message["Auto-Submitted"] == "auto-generated"


def test_a_project_name_is_text_in_the_html_part(cast, mailbox):
    app_id = factories.new_application(cast, project_name="<script>alert(1)</script>节能")
    fire(app_id, "submit", cast.applicant)
    html = next(m for m in mailbox.messages() if m.envelope_to[0] == cast.applicant.email).part("html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;节能" in html


def test_never_and_digest_hold_back_mail_but_not_the_inbox(app, cast, mailbox):
    browser = log_in(app, cast.district_reviewer)
    saved = browser.post(
        "/inbox/preferences",
        data={"email": cast.district_reviewer.email, "language": "zh", "phone": "", "mode_your_turn": "digest",
              "mode_status_changed": "never", "mode_panel_assigned": "immediate", "mode_site_visit": "immediate",
              "mode_approval_waiting": "immediate", "mode_queue_digest": "never"},
    )  # fmt: skip
    assert saved.status_code == 302
    _set(cast.applicant, email=cast.applicant.email)
    first, second = factories.new_application(cast), factories.new_application(cast)
    fire(first, "submit", cast.applicant)
    fire(second, "submit", cast.applicant)
    assert cast.district_reviewer.email not in {m.envelope_to[0] for m in mailbox.messages()}
    assert [d.status for d in _deliveries(cast.district_reviewer.id)] == ["held", "held"]
    with db.transaction() as session:
        made = delivery.make_digests(session, dt.date(2026, 12, 7))
        again = delivery.make_digests(session, dt.date(2026, 12, 7))
    assert len(made) == 1 and again == []
    outbox.kick()
    digests = [m for m in mailbox.messages() if m.envelope_to[0] == cast.district_reviewer.email]
    assert len(digests) == 1
    assert digests[0].message["Subject"] == "【通知汇总】2026-12-07：2条"
    assert f"#{first}" in digests[0].part("plain") and f"#{second}" in digests[0].part("plain")
    assert [d.status for d in _deliveries(cast.district_reviewer.id)] == ["digested", "digested", "sent"]


def test_a_deadline_goes_at_once_whatever_the_preference(client, cast, mailbox):
    headers = bearer(client, cast.applicant)
    refused = client.put("/api/v1/inbox/preferences", json={"modes": {"deadline_near": "never"}}, headers=headers)
    assert problem(refused, 422, "invalid_input")["errors"][0]["code"] == "deadline_always_sent"
    chosen = client.put("/api/v1/inbox/preferences", json={"modes": {"your_turn": "never"}}, headers=headers)
    assert chosen.status_code == 200 and chosen.get_json()["modes"]["your_turn"] == "never"
    assert chosen.get_json()["modes"]["deadline_near"] == "immediate"
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    mailbox.clear()
    fire(app_id, "request_supplement", cast.municipal_reviewer, factories.payload_for("request_supplement", app_id))
    sent = [m for m in mailbox.messages() if m.envelope_to[0] == cast.applicant.email]
    assert len(sent) == 1  # "your turn" set to never, but this one carries a deadline
    assert "截止日期" in sent[0].part("plain")


def test_a_rolled_back_command_sends_nothing(cast, mailbox):
    app_id = factories.new_application(cast, attach=False)
    with pytest.raises(GuardFailed):
        fire(app_id, "submit", cast.applicant)  # required attachments missing: refused and rolled back
    with db.transaction() as session:
        assert session.scalars(select(Notification).where(Notification.application_id == app_id)).all() == []
    assert mailbox.messages() == []


def test_the_server_away_then_back_backoff_then_dead_then_sent_again(app, cast, mailbox):
    saved = notices.settings(app)
    closed = SmtpChannel("smtp://127.0.0.1:9", "noreply@emc.test", timeout=2)  # the discard port: nothing listens
    app.extensions["notification_settings"] = dataclasses.replace(saved, channels={"email": closed}, backoff=(60, 300))
    try:
        app_id = factories.new_application(cast)
        fire(app_id, "submit", cast.applicant)
        [row] = _deliveries(cast.district_reviewer.id)
        assert row.status == "pending" and row.attempts == 1 and "ConnectionRefused" in (row.last_error or "")
        start = row.next_attempt_at
        with db.transaction() as session:
            assert row.id not in delivery.due_again(session, utcnow())  # not before its backoff
            assert row.id in delivery.due_again(session, utcnow() + dt.timedelta(seconds=61))
        later = utcnow() + dt.timedelta(seconds=61)
        assert delivery.deliver(row.id, notices.settings(app), later) == "pending"  # second attempt: 300 s more
        [row] = _deliveries(cast.district_reviewer.id)
        assert row.attempts == 2 and row.next_attempt_at > start
        last = utcnow() + dt.timedelta(seconds=400)
        assert delivery.deliver(row.id, notices.settings(app), last) == "dead"  # the third and last
    finally:
        app.extensions["notification_settings"] = saved
    page = log_in(app, cast.admin).get("/admin/mail/deliveries")
    assert f'data-id="{row.id}"' in page.text and "ConnectionRefused" in page.text
    assert log_in(app, cast.applicant).get("/admin/mail/deliveries").status_code == 403
    resent = log_in(app, cast.admin).post(f"/admin/mail/deliveries/{row.id}/resend")
    assert resent.status_code == 302
    [row] = _deliveries(cast.district_reviewer.id)
    assert row.status == "sent"
    assert [m.envelope_to[0] for m in mailbox.messages()].count(cast.district_reviewer.email) == 1


def test_a_mailbox_refused_for_good_is_dead_at_once(cast, mailbox):
    mailbox.refuse.add(cast.district_reviewer.email)
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    [row] = _deliveries(cast.district_reviewer.id)
    assert (row.status, row.attempts) == ("dead", 1) and "550" in (row.last_error or "")


def test_the_server_that_wants_a_login_gets_it(app, cast, mailbox):
    mailbox.credentials = ("emc", "s3cret")
    saved = notices.settings(app)
    try:
        wrong = SmtpChannel(mailbox.url("emc", "wrong"), "noreply@emc.test")
        app.extensions["notification_settings"] = dataclasses.replace(saved, channels={"email": wrong})
        app_id = factories.new_application(cast)
        fire(app_id, "submit", cast.applicant)
        assert {d.status for d in _deliveries(cast.district_reviewer.id)} == {"dead"}  # 535: refused for good
        right = SmtpChannel(mailbox.url("emc", "s3cret"), "noreply@emc.test")
        app.extensions["notification_settings"] = dataclasses.replace(saved, channels={"email": right})
        other = factories.new_application(cast)
        fire(other, "submit", cast.applicant)
        assert [d.status for d in _deliveries(cast.district_reviewer.id)] == ["dead", "sent"]
    finally:
        app.extensions["notification_settings"] = saved


def test_delivering_twice_sends_once(app, cast, mailbox):
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    [row] = _deliveries(cast.district_reviewer.id)
    assert delivery.deliver(row.id, notices.settings(app)) == "sent"  # a redelivered task
    with db.transaction() as session:
        assert delivery.sweep(session) == 0
    assert [m.envelope_to[0] for m in mailbox.messages()].count(cast.district_reviewer.email) == 1
