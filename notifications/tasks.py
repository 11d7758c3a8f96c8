"""Celery tasks for notifications; idempotent, so acks_late redelivery is harmless."""

from __future__ import annotations

from celery import shared_task

from notifications import operations
from workflow import registry
from workflow.db import db

TASK = "notifications.notify_transition"


@shared_task(name=TASK, ignore_result=True, acks_late=True)
def notify_transition(application_id: int, event_seq: int, outbox_id: int | None = None) -> int:
    with db.transaction() as session:
        return operations.notify_transition(session, application_id, event_seq)


registry.subscribe("transitioned", TASK)
registry.subscribe("assigned", TASK)  # an expert put on a panel hears of it (the leader: "your turn")
