"""The day's reminders, on working days only (the calendar of `workflow.workdays`): each registered source names
who to remind of what, and each person hears of each occasion once, however often the beat runs.

The deadlines are this stage's own source: an open deadline (a supplement, a correction) whose last day is 3 or 1
working days away reminds whoever must act before it (issue 14 item 4). The review stage adds visits tomorrow,
approvals waiting and each reviewer's queue (`review.reminders`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import operations
from workflow import workdays
from workflow.accounts import SYSTEM
from workflow.db import as_utc
from workflow.models import Application, Deadline
from workflow.registry import REMINDER_SOURCES, Reminder, reminder_source
from workflow.visibility import get_visible
from workflow.workdays import SHANGHAI

DEADLINE_DAYS = (3, 1)  # working days before a deadline's last day (issue 14 item 4)


def last_day(due_at: dt.datetime) -> dt.date:
    """A deadline runs out at `due_at`; the last day to act is the Beijing day before that instant."""
    return (as_utc(due_at) - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date()


@reminder_source("deadline_near")
def deadlines_near(session: Session, now: dt.datetime, options: dict[str, Any]) -> Iterator[Reminder]:
    today = workdays.today_in_shanghai(now)
    ahead = {workdays.add_working_days(today, n): n for n in DEADLINE_DAYS}
    rows = session.scalars(
        select(Deadline)
        .join(Application, Application.id == Deadline.application_id)
        .where(Deadline.closed_at.is_(None), Deadline.fired_at.is_(None), Application.state == Deadline.state)
        .order_by(Deadline.id)
    )
    for deadline in rows:
        day = last_day(deadline.due_at)
        if day not in ahead:
            continue
        app = get_visible(session, SYSTEM, deadline.application_id)
        if app is None:
            continue
        people = [uid for uid, kind in operations.recipients(session, app).items() if kind == "your_turn"]
        if people:
            yield Reminder(
                "deadline_near",
                f"remind:deadline:{deadline.id}:{ahead[day]}",
                tuple(people),
                application_id=app.id,
                due_on=day,
                data={"days_left": ahead[day]},
            )


def run(session: Session, now: dt.datetime, options: dict[str, Any] | None = None) -> list[int]:
    """Every source's reminders for today, as notifications (ids of the new ones); nothing on a day off."""
    if not workdays.is_working_day(workdays.today_in_shanghai(now)):
        return []
    made: list[int] = []
    for _name, source in sorted(REMINDER_SOURCES.items()):
        for reminder in source(session, now, options or {}):
            made += operations.remind(
                session,
                reminder.user_ids,
                reminder.kind,
                reminder.occasion,
                application_id=reminder.application_id,
                due=reminder.due_on,
                data=reminder.data,
            )
    return made
