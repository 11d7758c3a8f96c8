"""The append-only audit chain: each event hashed with the previous one, verified end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.accounts import Actor
from workflow.db import as_utc, utcnow
from workflow.definitions import canonical_json
from workflow.models import AuditEvent, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1


def _stamp(value: dt.datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


def row_content(event: AuditEvent) -> dict[str, Any]:
    """The fields a hash covers, in a form that survives any database's round trip."""
    return {
        "seq": event.seq,
        "occurred_at": _stamp(event.occurred_at),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "role": event.role,
        "application_id": event.application_id,
        "outcome": event.outcome,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": event.payload,
        "definition": event.definition,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_json(row_content(event))).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    head = session.scalars(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).one_or_none()
    if head is None:
        # First event ever: create the tip; a concurrent creator makes this a no-op, then we lock it.
        dialect = session.get_bind().dialect.name
        ins = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(ins(AuditHead).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS).on_conflict_do_nothing())
        head = session.scalars(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).one()
    return head


def append(
    session: Session,
    *,
    actor: Actor,
    outcome: str,
    application_id: int | None,
    payload: dict[str, Any] | None = None,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    definition: str | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event under the chain lock; the caller's transaction commits it."""
    head = _lock_head(session)
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=utcnow(),
        actor_id=actor.id,
        actor=actor.username,
        role=actor.role,
        application_id=application_id,
        outcome=outcome,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        # Stored exactly as hashed: round-trip through canonical JSON first.
        payload=json.loads(canonical_json(payload or {})),
        definition=definition,
        request_id=request_id,
        prev_hash=head.last_hash,
    )
    event.hash = compute_hash(event)
    session.add(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    session.flush()
    return event


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} events verified"
        return f"audit chain broken at event {self.broken_seq}: {self.reason}"


def _rows(session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for row in rows:  # bounded memory on a long chain, without touching the caller's other objects
            session.expunge(row)


def verify(session: Session) -> Verification:
    """Walk the whole chain; report the first event that was edited, removed or re-linked."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event in _rows(session):
        if event.seq != expected_seq:
            missing = expected_seq if event.seq > expected_seq else event.seq
            return Verification(False, checked, missing, f"event {missing} is missing (deleted?)")
        if event.prev_hash != prev_hash:
            return Verification(False, checked, event.seq, "does not link to the event before it")
        if compute_hash(event) != event.hash:
            return Verification(False, checked, event.seq, "content does not match its hash (edited?)")
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, HEAD_ID)
    last_seq = head.last_seq if head else 0
    if last_seq != checked:
        first_gone = checked + 1
        return Verification(
            False, checked, first_gone, f"event {first_gone} is missing: the chain tip records {last_seq} events"
        )
    if head is not None and head.last_hash != prev_hash:
        return Verification(False, checked, checked, "the chain tip's hash does not match the last event")
    return Verification(True, checked)
