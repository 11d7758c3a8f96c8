"""The transactional outbox: rows written with the change, sent to Celery only after commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow import registry
from workflow.db import as_utc, db, table_of, utcnow
from workflow.models import OutboxMessage

log = logging.getLogger(__name__)

Sender = Callable[[str, dict[str, Any]], None]

# Set by the app's Celery integration: how to hand a task to the queue, and how to wake the relay.
_sender: Sender | None = None
_kicker: Callable[[], None] | None = None

LEASE = dt.timedelta(seconds=60)
_INSERT = table_of(OutboxMessage).insert()


def configure(sender: Sender | None, kicker: Callable[[], None] | None) -> None:
    global _sender, _kicker
    _sender, _kicker = sender, kicker


def made_for(session: Session, model: Any, application_id: int, event_seq: int) -> Any | None:
    """The row a task already made for an audited event (`model` has application_id and source_event_seq): a
    redelivered task finds it and makes no second one (tasks are delivered at least once)."""
    return session.scalars(
        select(model).where(model.application_id == application_id, model.source_event_seq == event_seq)
    ).one_or_none()


def publish(session: Session, topic: str, kwargs: dict[str, Any], application_id: int | None = None) -> int:
    """Write one outbox row per subscriber of `topic`, inside the caller's transaction."""
    names = registry.SUBSCRIBERS.get(topic, [])
    if names:
        now = utcnow()
        rows = [
            {"task": name, "kwargs": kwargs, "application_id": application_id, "created_at": now, "attempts": 0}
            for name in names
        ]
        session.connection().execute(_INSERT, rows)  # Core: part of every command's write phase
    return len(names)


def kick() -> None:
    """After a commit: ask the relay to run now (never call this inside a transaction)."""
    if _kicker is None:
        return
    try:
        _kicker()
    except Exception:  # the periodic relay will pick the rows up
        log.exception("could not wake the outbox relay; rows stay queued")


def relay(limit: int = 100, now: dt.datetime | None = None) -> int:
    """Send pending rows; at-least-once (tasks are idempotent). Returns how many were sent."""
    if _sender is None:
        raise RuntimeError("outbox has no sender: configure it with the Celery app (web.core.tasks)")
    now = as_utc(now) if now is not None else utcnow()  # SQLite compares times without their zone
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.dispatched_at.is_(None),
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = [(row.id, row.task, dict(row.kwargs)) for row in rows]
        for row in rows:
            row.claimed_until = now + LEASE
    # Send outside any transaction: an eager task opens its own, and a slow broker holds no locks.
    sent = 0
    for row_id, task, kwargs in claimed:
        error = None
        try:
            _sender(task, {**kwargs, "outbox_id": row_id})
        except Exception as exc:
            log.exception("outbox row %s (%s) failed", row_id, task)
            error = f"{type(exc).__name__}: {exc}"
        with db.transaction() as session:
            done = session.get(OutboxMessage, row_id)
            if done is None:
                continue
            done.attempts += 1
            if error is None:
                done.dispatched_at = utcnow()
                sent += 1
            else:
                done.last_error = error[:2000]
                done.claimed_until = utcnow() + min(LEASE * done.attempts, dt.timedelta(hours=1))
    return sent


def pending(session: Session) -> int:
    return len(session.scalars(select(OutboxMessage.id).where(OutboxMessage.dispatched_at.is_(None))).all())
