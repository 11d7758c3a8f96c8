"""Celery tasks of the engine. Tasks take ids, never ORM objects, and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from workflow import deadlines, outbox


@shared_task(name="workflow.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    return outbox.relay()


@shared_task(name="workflow.fire_due_deadlines", ignore_result=True)
def fire_due_deadlines() -> int:
    return len(deadlines.fire_due())
