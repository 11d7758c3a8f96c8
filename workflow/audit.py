"""The append-only audit chain: each event hashed with the previous one, verified end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.accounts import Actor
from workflow.db import as_utc, table_of, utcnow
from workflow.definitions import canonical_json
from workflow.models import AuditEvent, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1


def _stamp(value: dt.datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor", "role", "application_id", "outcome", "trigger",
    "from_state", "to_state", "payload", "definition", "request_id", "prev_hash",
)  # fmt: skip


def _content(values: dict[str, Any]) -> dict[str, Any]:
    """The fields a hash covers, in a form that survives any database's round trip."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["occurred_at"] = _stamp(values["occurred_at"])
    return content


def row_content(event: AuditEvent) -> dict[str, Any]:
    return _content({name: getattr(event, name) for name in HASHED_FIELDS})


def _digest(values: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(_content(values))).hexdigest()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_json(row_content(event))).hexdigest()


# Prebuilt Core statements: the append runs inside every command, so it skips the ORM's unit of work.
_events = table_of(AuditEvent)
_head = table_of(AuditHead)
_LOCK_HEAD = select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == HEAD_ID).with_for_update()
_INSERT_EVENT = _events.insert()
_MOVE_HEAD = (
    update(_head).where(_head.c.id == HEAD_ID).values(last_seq=bindparam("b_seq"), last_hash=bindparam("b_hash"))
)


@dataclass(frozen=True)
class Appended:
    seq: int
    hash: str


def _lock_head(session: Session) -> tuple[int, str]:
    conn = session.connection()
    head = conn.execute(_LOCK_HEAD).first()
    if head is None:
        # First event ever: create the tip; a concurrent creator makes this a no-op, then we lock it.
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(ins(_head).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS).on_conflict_do_nothing())
        head = conn.execute(_LOCK_HEAD).one()
    return head.last_seq, head.last_hash


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
) -> Appended:
    """Append one event under the chain lock; the caller's transaction commits it."""
    last_seq, last_hash = _lock_head(session)
    values: dict[str, Any] = {
        "seq": last_seq + 1,
        "occurred_at": utcnow(),
        "actor_id": actor.id,
        "actor": actor.username,
        "role": actor.role,
        "application_id": application_id,
        "outcome": outcome,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        # Stored exactly as hashed: round-trip through canonical JSON first.
        "payload": json.loads(canonical_json(payload or {})),
        "definition": definition,
        "request_id": request_id,
        "prev_hash": last_hash,
    }
    values["hash"] = _digest(values)
    conn = session.connection()
    conn.execute(_INSERT_EVENT, values)
    conn.execute(_MOVE_HEAD, {"b_seq": values["seq"], "b_hash": values["hash"]})
    return Appended(values["seq"], values["hash"])


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


def note(
    session: Session,
    actor: Actor,
    application: Any,
    outcome: str,
    payload: dict[str, Any] | None = None,
    *,
    definition: str | None = None,
    request_id: str | None = None,
) -> Appended:
    """Append an event that leaves the application in its state (an upload, a declaration, a sheet saved)."""
    return append(
        session,
        actor=actor,
        outcome=outcome,
        application_id=application.id,
        from_state=application.state,
        to_state=application.state,
        payload=payload,
        definition=definition,
        request_id=request_id,
    )


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
