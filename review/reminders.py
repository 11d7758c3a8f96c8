"""The review stage's reminders (issue 14 item 4), registered with the engine for the notifications stage to run:
a site visit on the next working day, an approval waiting more than N working days, each reviewer's queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from review.models import SiteVisit
from review.queues import DESKS, desk_queue
from workflow import workdays
from workflow.accounts import SYSTEM, User
from workflow.beijing import beijing_time
from workflow.db import as_utc
from workflow.engine import awaits
from workflow.models import Application, Assignment, AuditEvent
from workflow.registry import Reminder, reminder_source, split
from workflow.visibility import can_see, get_visible, programme_definitions, visible_applications
from workflow.workdays import SHANGHAI

APPROVAL_DAYS = 3  # the default of APPROVAL_REMINDER_DAYS: a local setting, the seeds set no such period


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start`, up to and including `end`."""
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        days += workdays.is_working_day(day)
    return days


@reminder_source("visit_tomorrow")
def visits_tomorrow(session: Session, now: dt.datetime, options: dict[str, Any]) -> Iterator[Reminder]:
    """A visit after today and no later than the next working day: its panel and the unit's people."""
    today = workdays.today_in_shanghai(now)
    until = workdays.add_working_days(today, 1)
    for visit in session.scalars(select(SiteVisit).order_by(SiteVisit.id)):
        day = as_utc(visit.visit_at).astimezone(SHANGHAI).date()
        if not today < day <= until:
            continue
        app = get_visible(session, SYSTEM, visit.application_id)
        if app is None or app.state != "site_verification":
            continue  # concluded, withdrawn, or moved on: no visit to remind of
        panel = session.scalars(
            select(Assignment.user_id).where(
                Assignment.application_id == app.id, Assignment.role == "expert", Assignment.active.is_(True)
            )
        )
        unit = session.scalars(
            select(User.id).where(
                User.role == "applicant", User.organisation_id == app.organisation_id, User.active.is_(True)
            )
        )
        people = tuple(sorted({*panel, *unit}))
        if people:
            when = beijing_time(visit.visit_at)
            yield Reminder(
                "visit_tomorrow",
                f"remind:visit:{app.id}:{day.isoformat()}",
                people,
                application_id=app.id,
                due_on=day,
                data={"visit": {"when": when, "place": visit.place}},
            )


def _approval_states(session: Session) -> dict[int, set[str]]:
    """Per programme version: the states where a second person's approval waits (a `four_eyes` guard)."""
    out: dict[int, set[str]] = {}
    for version_id, definition in programme_definitions(session).items():
        out[version_id] = {
            source
            for t in definition.transitions
            if any(split(ref)[0] == "four_eyes" for ref in t.guards)
            for source in t.sources
        }
    return out


@reminder_source("approval_waiting")
def approvals_waiting(session: Session, now: dt.datetime, options: dict[str, Any]) -> Iterator[Reminder]:
    """An application waiting for a four-eyes approval more than N working days: whoever may approve it."""
    limit = int(options.get("approval_days", APPROVAL_DAYS))
    today = workdays.today_in_shanghai(now)
    definitions = programme_definitions(session)
    for version_id, states in sorted(_approval_states(session).items()):
        if not states:
            continue
        apps = session.scalars(
            visible_applications(session, SYSTEM, definitions)
            .where(Application.programme_version_id == version_id, Application.state.in_(states))
            .order_by(Application.id)
        )
        for app in apps:
            entered = session.execute(
                select(AuditEvent.seq, AuditEvent.occurred_at)
                .where(
                    AuditEvent.application_id == app.id,
                    AuditEvent.outcome == "transition",
                    AuditEvent.to_state == app.state,
                )
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).first()
            if entered is None:
                continue
            waited = working_days_between(workdays.today_in_shanghai(as_utc(entered.occurred_at)), today)
            if waited <= limit:
                continue
            definition = definitions[version_id]
            roles = {r for t in definition.from_state(app.state) for r in t.roles}
            candidates = session.scalars(select(User).where(User.active.is_(True), User.role.in_(roles)))
            people = tuple(
                u.id for u in candidates if can_see(session, u, app.id) and awaits(session, app, u, definition)
            )
            if people:
                yield Reminder(
                    "approval_waiting",
                    f"remind:approval:{app.id}:{entered.seq}",
                    people,
                    application_id=app.id,
                    data={"waited_days": waited},
                )


@reminder_source("queue_digest")
def queues(session: Session, now: dt.datetime, options: dict[str, Any]) -> Iterator[Reminder]:
    """Each reviewer with work on their desk: the day's list of it (longest waiting first, at most 100)."""
    today = workdays.today_in_shanghai(now)
    readers = session.scalars(select(User).where(User.active.is_(True), User.role.in_(sorted(DESKS))).order_by(User.id))
    for user in readers:
        queue = desk_queue(session, user, per_page=100, now=now)
        if not queue.rows:
            continue
        items = [
            {
                "id": row.id,
                "project_name": row.project_name,
                "organisation": row.organisation,
                "state": row.definition.state_label(row.state, user.language),
                "waited_days": working_days_between(workdays.today_in_shanghai(row.waiting_since), today),
                "due_on": row.due_date.isoformat() if row.due_date else None,
            }
            for row in queue.rows
        ]
        yield Reminder(
            "queue_digest",
            f"remind:queue:{today.isoformat()}",
            (user.id,),
            data={"day": today.isoformat(), "items": items},
        )
