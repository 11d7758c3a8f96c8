"""Reminders on working days with a frozen clock (issue 14 item 4): a supplement deadline in 3 and in 1 working
days, a site visit on the next working day, an approval waiting more than N working days, each reviewer's queue;
once per person per occasion, however often the beat runs; nothing on a day off."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from notifications import delivery, reminders
from notifications.models import Notification
from review import panels
from tests import factories
from web.core import notices
from workflow import outbox
from workflow.db import db
from workflow.engine import fire
from workflow.workdays import SHANGHAI

DUE = "2027-03-23"  # a Tuesday: 3 working days before is Thursday 18 March, 1 is Monday 22 March


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), SHANGHAI).astimezone(dt.UTC)


def _run(app, now: dt.datetime, **options) -> list[Notification]:  # type: ignore[no-untyped-def]
    """The beat's reminder task at `now`: the reminders made, planned for delivery and sent."""
    settings = notices.settings(app)
    with db.transaction() as session:
        made = reminders.run(session, now, {**settings.reminder_options, **options})
        delivery.plan(session, made, settings.channels)
        rows = list(session.scalars(select(Notification).where(Notification.id.in_(made)).order_by(Notification.id)))
        session.expunge_all()
    outbox.kick()
    return rows


def _supplement_due(cast) -> int:  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    payload = {**factories.payload_for("request_supplement", app_id), "due_date": DUE}
    fire(app_id, "request_supplement", cast.municipal_reviewer, payload)
    return app_id


def _kinds(rows: list[Notification], kind: str) -> list[Notification]:
    return [r for r in rows if r.kind == kind]


def test_a_supplement_deadline_3_and_1_working_days_ahead_once_each(app, cast, mailbox):
    app_id = _supplement_due(cast)
    mailbox.clear()
    three = _kinds(_run(app, _at("2027-03-18")), "deadline_near")
    assert [(r.user_id, r.application_id, r.data["days_left"], str(r.due_on)) for r in three] == [
        (cast.applicant.id, app_id, 3, DUE)
    ]
    assert _kinds(_run(app, _at("2027-03-18", 15)), "deadline_near") == []  # the beat again: no one twice
    assert _kinds(_run(app, _at("2027-03-19")), "deadline_near") == []  # 2 working days ahead: no reminder
    assert _run(app, _at("2027-03-20")) == []  # Saturday: nothing at all goes out
    assert _run(app, _at("2027-03-21")) == []  # Sunday
    one = _kinds(_run(app, _at("2027-03-22")), "deadline_near")
    assert [(r.user_id, r.data["days_left"]) for r in one] == [(cast.applicant.id, 1)]
    mails = [m for m in mailbox.messages() if m.envelope_to[0] == cast.applicant.email]
    subjects = [m.message["Subject"] for m in mails]
    assert "【截止提醒】能源管理中心建设项目：还剩3个工作日" in subjects
    assert "【截止提醒】能源管理中心建设项目：还剩1个工作日" in subjects


def test_a_holiday_is_not_a_working_day_for_reminders(app, cast, monkeypatch):
    from workflow import workdays

    _supplement_due(cast)
    monkeypatch.setattr(workdays, "HOLIDAYS", {dt.date(2027, 3, 18)})  # that Thursday off
    assert _run(app, _at("2027-03-18")) == []
    # Counted without the Thursday, 3 working days before the 23rd is Wednesday the 17th.
    assert [r.data["days_left"] for r in _kinds(_run(app, _at("2027-03-17")), "deadline_near")] == [3]


def test_a_site_visit_on_the_next_working_day(app, cast, mailbox):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    panels.schedule_visit(cast.agency_coordinator, app_id, dt.datetime(2027, 3, 22, 10, 0), "闵行区示例路1号")
    assert _kinds(_run(app, _at("2027-03-18")), "visit_tomorrow") == []  # Thursday: the visit is Monday
    friday = _kinds(_run(app, _at("2027-03-19")), "visit_tomorrow")  # Friday: Monday is the next working day
    assert {r.user_id for r in friday} == {cast.applicant.id, cast.expert.id}
    assert friday[0].data["visit"] == {"when": "2027-03-22 10:00", "place": "闵行区示例路1号"}
    assert _kinds(_run(app, _at("2027-03-19", 16)), "visit_tomorrow") == []
    to_expert = [m for m in mailbox.messages() if m.envelope_to[0] == cast.expert.email]
    assert any(m.message["Subject"] == "【明日现场核查】能源管理中心建设项目" for m in to_expert)


def test_an_approval_waiting_more_than_n_working_days_reminds_the_second_officer(app, cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "award_proposed")
    with db.transaction() as session:
        from workflow.models import AuditEvent

        proposed = session.scalars(
            select(AuditEvent.occurred_at).where(
                AuditEvent.application_id == app_id, AuditEvent.trigger == "propose_award"
            )
        ).one()
    day = proposed.astimezone(SHANGHAI).date()
    from workflow import workdays

    three, four = workdays.add_working_days(day, 3), workdays.add_working_days(day, 4)
    assert _kinds(_run(app, _at(three.isoformat()), approval_days=3), "approval_waiting") == []
    waiting = _kinds(_run(app, _at(four.isoformat()), approval_days=3), "approval_waiting")
    assert [(r.user_id, r.application_id, r.data["waited_days"]) for r in waiting] == [
        (cast.finance_officer2.id, app_id, 4)
    ]  # not the proposer: the approval does not wait for them
    assert _kinds(_run(app, _at(four.isoformat(), 17), approval_days=3), "approval_waiting") == []


def test_each_reviewers_queue_once_a_working_day(app, cast):
    first, second = factories.new_application(cast), factories.new_application(cast)
    fire(first, "submit", cast.applicant)
    fire(second, "submit", cast.applicant)
    monday = _kinds(_run(app, _at("2027-03-22")), "queue_digest")
    mine = [r for r in monday if r.user_id == cast.district_reviewer.id]
    assert len(mine) == 1 and {i["id"] for i in mine[0].data["items"]} == {first, second}
    assert all(r.user_id != cast.other_district_reviewer.id for r in monday)  # nothing on their desk
    assert [r for r in _kinds(_run(app, _at("2027-03-22", 11)), "queue_digest") if r.user_id == mine[0].user_id] == []
    tuesday = _kinds(_run(app, _at("2027-03-23")), "queue_digest")
    assert [r.user_id for r in tuesday if r.user_id == cast.district_reviewer.id] == [cast.district_reviewer.id]


def test_the_beat_runs_the_relay_the_reminders_the_retries_and_the_digests(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    tasks = {entry["task"] for entry in schedule.values()}
    assert {
        "workflow.relay_outbox",
        "notifications.remind",
        "notifications.sweep_deliveries",
        "notifications.send_digests",
    } <= tasks
    registered = app.extensions["celery"].tasks
    assert all(name in registered for name in tasks)  # each names a task the worker knows
    assert app.config["CELERY"]["timezone"] == "Asia/Shanghai"  # 08:00 is Beijing's
