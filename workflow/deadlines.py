"""Deadlines: fire the system trigger (e.g. `lapse`) for applications whose time ran out."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select

from workflow.accounts import SYSTEM
from workflow.db import as_utc, db, utcnow
from workflow.engine import fire
from workflow.errors import WorkflowError
from workflow.models import Deadline

log = logging.getLogger(__name__)


@dataclass
class DeadlineOutcome:
    deadline_id: int
    application_id: int
    trigger: str
    state: str | None
    error: str | None = None


def fire_due(now: dt.datetime | None = None, limit: int = 200) -> list[DeadlineOutcome]:
    """Fire every overdue, still-open deadline through fire(), as the system."""
    # As UTC: SQLite stores times without their zone, so a Shanghai clock would compare 8 hours off.
    now = as_utc(now) if now is not None else utcnow()
    with db.transaction() as session:
        due = session.execute(
            select(Deadline.id, Deadline.application_id, Deadline.trigger)
            .where(Deadline.closed_at.is_(None), Deadline.fired_at.is_(None), Deadline.due_at <= now)
            .order_by(Deadline.due_at)
            .limit(limit)
        ).all()
    outcomes = []
    for deadline_id, application_id, trigger in due:
        try:
            # The key makes a retried run replay instead of firing twice.
            result = fire(application_id, trigger, SYSTEM, idempotency_key=f"deadline-{deadline_id}")
            outcomes.append(DeadlineOutcome(deadline_id, application_id, trigger, result.state))
        except WorkflowError as exc:
            log.warning("deadline %s on application %s: %s", deadline_id, application_id, exc.detail)
            outcomes.append(DeadlineOutcome(deadline_id, application_id, trigger, None, exc.detail))
            continue
        with db.transaction() as session:
            row = session.get(Deadline, deadline_id)
            if row is not None and row.fired_at is None:
                row.fired_at = now
    return outcomes
