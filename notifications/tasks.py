"""Celery tasks for notifications; idempotent, so acks_late redelivery is harmless."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from notifications import operations
from notifications.models import Notification
from workflow import registry
from workflow.db import db

TASK = "notifications.notify_transition"
PEOPLE_TASK = "notifications.notify_people"


@shared_task(name=TASK, ignore_result=True, acks_late=True)
def notify_transition(application_id: int, event_seq: int, outbox_id: int | None = None) -> int:
    with db.transaction() as session:
        return operations.notify_transition(session, application_id, event_seq)


@shared_task(name=PEOPLE_TASK, ignore_result=True, acks_late=True)
def notify_people(
    application_id: int, event_seq: int, user_ids: list[int], kind: str, outbox_id: int | None = None
) -> int:
    """The people the command named hear of its event (an expert drawn before they may see the file, a visit)."""
    if not user_ids:
        return 0
    with db.transaction() as session:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        rows = [
            {"user_id": uid, "application_id": application_id, "event_seq": event_seq, "kind": kind}
            for uid in sorted(set(user_ids))
        ]
        session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
        return len(rows)


registry.subscribe("transitioned", TASK)
registry.subscribe("assigned", TASK)  # an expert put on a panel hears of it (the leader: "your turn")
registry.subscribe("panel_notice", PEOPLE_TASK)  # review.panels: drawn onto a panel, the site visit
