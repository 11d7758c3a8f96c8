"""Binders built by a worker (issue 13 item 4): asked for on a page, built with its progress recorded as each
attachment is bound, stored content-addressed, then served to whoever may see the application."""

from __future__ import annotations

import hashlib
import tempfile

from sqlalchemy import select
from sqlalchemy.orm import Session

from applications import binder, file_reads
from applications.models import BinderBuild
from storage.blobs import BlobStore
from workflow import audit, outbox
from workflow.accounts import SYSTEM, Actor
from workflow.db import db, utcnow
from workflow.engine import resolve_actor
from workflow.errors import NotFound
from workflow.visibility import get_visible

REQUESTED = "binder_requested"  # the outbox topic


def request(actor: Actor | int, application_id: int, request_id: str | None = None) -> int:
    """Ask for the binder of an application the actor may see; a worker builds it. Returns the build's id."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        app = get_visible(session, who, application_id)
        if app is None:
            raise NotFound(f"application {application_id} not found")
        build = BinderBuild(application_id=app.id, requested_by_id=getattr(who, "id", None))
        session.add(build)
        session.flush()
        audit.note(session, who, app, "binder_asked", {"build": build.id}, request_id=request_id)
        outbox.publish(session, REQUESTED, {"build_id": build.id}, application_id=app.id)
        build_id = build.id
    outbox.kick()
    return build_id


def latest(session: Session, application_id: int) -> BinderBuild | None:
    return session.scalars(
        select(BinderBuild).where(BinderBuild.application_id == application_id).order_by(BinderBuild.id.desc()).limit(1)
    ).one_or_none()


def visible_build(session: Session, actor: Actor, application_id: int, build_id: int) -> BinderBuild:
    """A build of an application `actor` may see; otherwise NotFound, as if it did not exist."""
    build = session.get(BinderBuild, build_id)
    if build is None or build.application_id != application_id or get_visible(session, actor, application_id) is None:
        raise NotFound(f"binder build {build_id} not found")
    return build


def opened(actor: Actor | int, application_id: int, build_id: int, request_id: str | None = None) -> BinderBuild:
    """A built binder `actor` may see (visible_build), its download audited; NotFound as for none otherwise, and
    while it is not built yet (nothing is written then)."""
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        build = visible_build(session, user, application_id, build_id)
        app = get_visible(session, user, application_id)
        if build.status != "done" or build.blob_key is None or app is None:
            raise NotFound(f"binder build {build_id} not found")
        file_reads.note_read(session, user, app, "binder", file_id=build.id, sha256=build.sha256, request_id=request_id)
        return build


def _progress(build_id: int, done: int, total: int, status: str = "building") -> None:
    """Recorded in a transaction of its own, so a page polling it sees each attachment as it is bound."""
    with db.transaction() as session:
        row = session.get(BinderBuild, build_id)
        if row is not None:
            row.status, row.done, row.total = status, done, total


def run(build_id: int, store: BlobStore) -> BinderBuild | None:
    """Build and store the binder (a redelivered task finds it done and does nothing)."""
    with db.transaction() as session:
        build = session.get(BinderBuild, build_id)
        if build is None or build.status == "done":
            return build
        application_id = build.application_id
    _progress(build_id, 0, 0)
    try:
        with tempfile.TemporaryFile() as spool:
            # Read only, and without SQLite's write lock: each attachment's progress is committed on its own meanwhile.
            with db.reading() as session:
                binder.bind(session, SYSTEM, application_id, store, spool, lambda d, t, _w: _progress(build_id, d, t))
            spool.seek(0)
            digest, size = hashlib.sha256(), 0
            while chunk := spool.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
            sha256 = digest.hexdigest()
            spool.seek(0)
            stored = store.put(f"binders/{sha256[:2]}/{sha256}.docx", spool, "application/octet-stream")
    except Exception as exc:
        with db.transaction() as session:
            row = session.get(BinderBuild, build_id)
            if row is not None:
                row.status, row.error, row.finished_at = "failed", str(exc)[:2000], utcnow()
        raise
    with db.transaction() as session:
        row = session.get(BinderBuild, build_id)
        assert row is not None
        row.status, row.blob_key, row.sha256, row.size, row.finished_at = "done", stored.key, sha256, size, utcnow()
        row.done = row.total
        session.flush()
        session.expunge(row)
        return row
