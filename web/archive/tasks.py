"""The outbox tasks: pack an application when it is archived (once per event), build a binder asked for (once)."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from applications import binder_builds
from web.archive import package
from web.core import archives
from web.core.extensions import blob_store
from workflow import registry
from workflow.db import db, utcnow
from workflow.models import AuditEvent

PACK_TASK = "archive.pack_on_transition"
BINDER_TASK = "archive.build_binder"


@shared_task(name=PACK_TASK, ignore_result=True, acks_late=True)
def pack_on_transition(application_id: int, event_seq: int, outbox_id: int | None = None) -> int | None:
    with db.transaction() as session:
        event = session.get(AuditEvent, event_seq)
        if event is None or event.outcome != "transition" or event.to_state != package.ARCHIVED:
            return None
        signer = archives.signer(current_app)
        row = package.make(
            session,
            application_id,
            blob_store(current_app),
            signer,
            "system",
            event_seq,
            retain_until=archives.retain_until(current_app, utcnow()),
        )
        return row.id


@shared_task(name=BINDER_TASK, ignore_result=True, acks_late=True)
def build_binder(build_id: int, outbox_id: int | None = None) -> int | None:
    """A binder asked for on a page; idempotent (a build done is not built again)."""
    row = binder_builds.run(build_id, blob_store(current_app))
    return row.id if row is not None else None


registry.subscribe("transitioned", PACK_TASK)
registry.subscribe(binder_builds.REQUESTED, BINDER_TASK)
