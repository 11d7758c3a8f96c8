"""The append-only audit chain: each event keyed (HMAC) with the previous one's hash, verified end to end.

The key lives outside the database (`configure`, from AUDIT_KEY): someone who can write to the database can edit a
row but cannot compute the hash that would make the edit pass. Events written before keying (key_id NULL) carry a
plain SHA-256 and verify only up to a boundary kept outside the database as well (AUDIT_LEGACY_THROUGH).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.accounts import Actor
from workflow.db import as_utc, table_of, utcnow
from workflow.definitions import canonical_json
from workflow.models import Application, AuditEvent, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1


def _stamp(value: dt.datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


LEGACY_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor", "role", "application_id", "outcome", "trigger",
    "from_state", "to_state", "payload", "definition", "request_id", "prev_hash",
)  # fmt: skip
# A keyed event also covers the key that signed it and the application's version after the event.
HASHED_FIELDS = (*LEGACY_FIELDS, "key_id", "app_version")


class AuditKeyError(RuntimeError):
    """No audit key is configured, or an event names a key that is not."""


@dataclass
class _Keys:
    signing_id: str | None = None
    by_id: dict[str, bytes] = field(default_factory=dict)
    legacy_through: int = 0


_keys = _Keys()


def key_id(key: str) -> str:
    """A public name for a key (never the key): what each event records and what `audit verify` prints."""
    return hashlib.sha256(b"emc-audit-key-id:" + key.encode()).hexdigest()[:16]


def configure(keys: Sequence[str], legacy_through: int = 0) -> None:
    """The current key first (it signs), then retired ones (they still verify); unkeyed events up to a seq."""
    keys = [k for k in keys if k]
    if not keys:
        raise AuditKeyError("the audit chain needs a key: set AUDIT_KEY")
    _keys.by_id = {key_id(k): k.encode() for k in keys}
    _keys.signing_id = key_id(keys[0])
    _keys.legacy_through = legacy_through


def _content(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields a hash covers, in a form that survives any database's round trip."""
    content = {name: values.get(name) for name in fields}
    content["occurred_at"] = _stamp(values["occurred_at"])
    return content


def _digest(values: dict[str, Any]) -> str:
    kid = values.get("key_id")
    if kid is None:
        return hashlib.sha256(canonical_json(_content(values, LEGACY_FIELDS))).hexdigest()
    key = _keys.by_id.get(kid)
    if key is None:
        raise AuditKeyError(f"audit key {kid} is not configured (AUDIT_KEY or AUDIT_KEYS_PREVIOUS)")
    return hmac.new(key, canonical_json(_content(values, HASHED_FIELDS)), hashlib.sha256).hexdigest()


def row_content(event: AuditEvent) -> dict[str, Any]:
    return _content({name: getattr(event, name) for name in HASHED_FIELDS}, HASHED_FIELDS)


def hash_of(content: dict[str, Any]) -> str:
    """The hash of an event as `row_content` wrote it out (JSON: its time as text), e.g. in an archive package."""
    values = dict(content)
    values["occurred_at"] = dt.datetime.fromisoformat(str(values["occurred_at"]))
    return _digest(values)


def compute_hash(event: AuditEvent) -> str:
    """The event's hash under the configured keys (plain SHA-256 for a legacy event)."""
    return _digest({name: getattr(event, name) for name in HASHED_FIELDS})


# Prebuilt Core statements: the append runs inside every command, so it skips the ORM's unit of work.
_events = table_of(AuditEvent)
_head = table_of(AuditHead)
_applications = table_of(Application)
_LOCK_HEAD = select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == HEAD_ID).with_for_update()
_INSERT_EVENT = _events.insert()
_MOVE_HEAD = (
    update(_head).where(_head.c.id == HEAD_ID).values(last_seq=bindparam("b_seq"), last_hash=bindparam("b_hash"))
)


@dataclass(frozen=True)
class Appended:
    seq: int
    hash: str


def lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain's tip for this transaction: (last seq, last hash)."""
    conn = session.connection()
    head = conn.execute(_LOCK_HEAD).first()
    if head is None:
        # First event ever: create the tip; a concurrent creator makes this a no-op, then we lock it.
        ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(ins(_head).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS).on_conflict_do_nothing())
        head = conn.execute(_LOCK_HEAD).one()
    return head.last_seq, head.last_hash


def append(session: Session, **fields: Any) -> Appended:
    """Append one event under the chain lock; the caller's transaction commits it.

    `fields` are event_values' (actor, outcome, application_id, payload, trigger, …); `app_version` is the
    application's version after this event, for every event that changes or notes one.
    """
    values = event_values(*lock_head(session), **fields)
    conn = session.connection()
    conn.execute(_INSERT_EVENT, values)
    conn.execute(_MOVE_HEAD, {"b_seq": values["seq"], "b_hash": values["hash"]})
    return Appended(values["seq"], values["hash"])


def event_values(
    last_seq: int,
    last_hash: str,
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
    app_version: int | None = None,
) -> dict[str, Any]:
    """The next event's row after the locked tip (`last_seq`, `last_hash`), its keyed hash included."""
    if _keys.signing_id is None:
        raise AuditKeyError("the audit chain needs a key: call workflow.audit.configure (AUDIT_KEY)")
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
        "key_id": _keys.signing_id,
        "app_version": app_version,
    }
    values["hash"] = _digest(values)
    return values


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    keys: dict[str, int] = field(default_factory=dict)  # key id -> events it signed ("legacy": unkeyed)
    applications: int = 0
    head_hash: str = GENESIS

    def __str__(self) -> str:
        used = ", ".join(f"{kid}: {n}" for kid, n in sorted(self.keys.items())) or "none"
        if self.ok:
            return (
                f"audit chain intact: {self.checked} events verified (keys {used}); {self.applications} applications "
                f"agree with their last event; head {self.checked} {self.head_hash}"
            )
        where = f"event {self.broken_seq}" if self.broken_seq is not None else "the applications"
        return f"audit chain broken at {where}: {self.reason}"


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
        app_version=application.version,
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
    """Walk the whole chain, then check every application against its last event; report the first fault."""
    expected_seq, prev_hash, checked, keys = 1, GENESIS, 0, Counter[str]()
    for event in _rows(session):
        if event.seq != expected_seq:
            missing = expected_seq if event.seq > expected_seq else event.seq
            return Verification(False, checked, missing, f"event {missing} is missing (deleted?)")
        if event.prev_hash != prev_hash:
            return Verification(False, checked, event.seq, "does not link to the event before it")
        if event.key_id is None and event.seq > _keys.legacy_through:
            return Verification(
                False,
                checked,
                event.seq,
                f"unkeyed event after the keyed chain began (AUDIT_LEGACY_THROUGH is {_keys.legacy_through})",
            )
        if event.key_id is not None and event.key_id not in _keys.by_id:
            return Verification(
                False, checked, event.seq, f"signed by key {event.key_id}, which is not configured (AUDIT_KEY…)"
            )
        if not hmac.compare_digest(compute_hash(event), event.hash):
            return Verification(False, checked, event.seq, "content does not match its hash (edited?)")
        keys[event.key_id or "legacy"] += 1
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
    problem, applications = _applications_agree(session)
    if problem:
        return Verification(False, checked, None, problem, dict(keys))
    return Verification(True, checked, keys=dict(keys), applications=applications, head_hash=prev_hash)


def _applications_agree(session: Session) -> tuple[str | None, int]:
    """Each application's state is its last state-bearing event's, and its version its last recorded version."""
    events = _events
    last_state = (
        select(events.c.application_id, func.max(events.c.seq).label("seq"))
        .where(events.c.application_id.is_not(None), events.c.to_state.is_not(None))
        .group_by(events.c.application_id)
        .subquery()
    )
    last_version = (
        select(events.c.application_id, func.max(events.c.seq).label("seq"))
        .where(events.c.application_id.is_not(None), events.c.app_version.is_not(None))
        .group_by(events.c.application_id)
        .subquery()
    )
    state_event = events.alias("state_event")
    version_event = events.alias("version_event")
    rows = session.execute(
        select(
            _applications.c.id,
            _applications.c.state,
            _applications.c.version,
            state_event.c.to_state,
            version_event.c.app_version,
        )
        .outerjoin(last_state, last_state.c.application_id == _applications.c.id)
        .outerjoin(state_event, state_event.c.seq == last_state.c.seq)
        .outerjoin(last_version, last_version.c.application_id == _applications.c.id)
        .outerjoin(version_event, version_event.c.seq == last_version.c.seq)
        .order_by(_applications.c.id)
    )
    count = 0
    for app_id, state, version, event_state, event_version in rows:
        count += 1
        if event_state is None:
            return f"application {app_id} has no event in the chain (inserted behind its back?)", count
        if state != event_state:
            return f"application {app_id} is in state '{state}' but its last event says '{event_state}'", count
        if event_version is not None and version != event_version:
            return f"application {app_id} is at version {version} but its last event says {event_version}", count
    return None, count
