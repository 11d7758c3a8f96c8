"""Celery tasks for meter evidence; idempotent (one snapshot per transition event), so redelivery is harmless."""

from __future__ import annotations

from celery import shared_task

from meters import snapshots
from workflow import registry
from workflow.db import db

SNAPSHOT_TASK = "meters.snapshot_on_transition"
REQUESTED_TASK = "meters.snapshot_requested"


@shared_task(name=SNAPSHOT_TASK, ignore_result=True, acks_late=True)
def snapshot_on_transition(application_id: int, event_seq: int, outbox_id: int | None = None) -> int | None:
    with db.transaction() as session:
        snapshot = snapshots.on_transition(session, application_id, event_seq)
        return snapshot.id if snapshot is not None else None


@shared_task(name=REQUESTED_TASK, ignore_result=True, acks_late=True)
def snapshot_requested(
    application_id: int, event_seq: int, requested_by: str, outbox_id: int | None = None
) -> int | None:
    with db.transaction() as session:
        snapshot = snapshots.on_request(session, application_id, event_seq, requested_by)
        return snapshot.id if snapshot is not None else None


registry.subscribe("transitioned", SNAPSHOT_TASK)
registry.subscribe(snapshots.REQUESTED, REQUESTED_TASK)
