"""The outbox task that packs an application when it is archived; idempotent (one package per archiving event)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from web.archive import package
from web.core import archives
from web.core.extensions import blob_store
from workflow import registry
from workflow.db import db
from workflow.models import AuditEvent

PACK_TASK = "archive.pack_on_transition"


@shared_task(name=PACK_TASK, ignore_result=True, acks_late=True)
def pack_on_transition(application_id: int, event_seq: int, outbox_id: int | None = None) -> int | None:
    with db.transaction() as session:
        event = session.get(AuditEvent, event_seq)
        if event is None or event.outcome != "transition" or event.to_state != package.ARCHIVED:
            return None
        signer = archives.signer(current_app)
        row = package.make(session, application_id, blob_store(current_app), signer, "system", event_seq)
        return row.id


registry.subscribe("transitioned", PACK_TASK)
