"""fire() on PostgreSQL: the actor and the programme versions in one round trip, and the write phase in one
statement (data-modifying CTEs) after the chain's tip is locked. SQLite keeps the plain path of workflow.engine;
both write the same rows (tests/integration/core/test_fire_paths.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from workflow import audit
from workflow.accounts import Actor, ActorSnapshot, SystemActor
from workflow.definitions import Definition
from workflow.errors import Forbidden, StaleVersion
from workflow.visibility import programme_definitions

# Switched off (tests, or to compare) by setting it False: fire() then takes the plain path on PostgreSQL too.
enabled = True

_ACTOR_AND_VERSIONS = text(
    """
    SELECT u.id, u.username, u.role, u.district, u.organisation_id, u.active, v.ids, v.digests
    FROM (SELECT array_agg(id) AS ids, array_agg(digest) AS digests FROM programme_versions) AS v
    LEFT JOIN users AS u ON u.id = CAST(:b_id AS integer)
    """
)


def actor_and_definitions(session: Session, actor: Actor | int) -> tuple[Actor, dict[int, Definition]]:
    """resolve_actor and programme_definitions in one round trip, with the same answers and refusals."""
    user_id = None if isinstance(actor, SystemActor) else actor if isinstance(actor, int) else actor.id
    row = session.connection().execute(_ACTOR_AND_VERSIONS, {"b_id": user_id}).one()
    definitions = programme_definitions(session, zip(row.ids or (), row.digests or (), strict=True))
    if isinstance(actor, SystemActor):
        return actor, definitions
    if row.id is None:
        raise Forbidden(f"no account with id {user_id}")
    if not row.active:
        raise Forbidden(f"account '{row.username}' is deactivated")
    who = ActorSnapshot(
        id=row.id,
        username=row.username,
        role=row.role,
        district=row.district,
        organisation_id=row.organisation_id,
        active=row.active,
    )
    return who, definitions


# Every part runs only after the one before it wrote its row: the event only if the application moved from the
# version fire() locked, the tip only if the event went in and the tip is still the one hashed against. Parts not
# wanted by a command are switched off by their parameters (no deadline, no idempotency key), so the statement text
# is one, and psycopg prepares it once per connection.
_WRITE = text(
    """
    WITH moved AS (
        UPDATE applications SET state = :state, version = :version, updated_at = :now
        WHERE id = :app_id AND version = :version - 1
        RETURNING id
    ), event AS (
        INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, application_id, outcome, trigger,
            from_state, to_state, payload, definition, request_id, prev_hash, hash, key_id, app_version)
        SELECT :seq, :occurred_at, CAST(:actor_id AS integer), :actor, :role, :application_id, :outcome, :trigger,
            :from_state, :to_state, :payload, :definition, CAST(:request_id AS varchar), :prev_hash, :hash, :key_id,
            :app_version
        FROM moved
        RETURNING seq
    ), tip AS (
        UPDATE audit_head SET last_seq = :seq, last_hash = :hash
        WHERE id = :head_id AND last_seq = :seq - 1 AND last_hash = :prev_hash AND EXISTS (SELECT FROM event)
        RETURNING last_seq
    ), closed AS (
        UPDATE deadlines SET closed_at = :now
        WHERE CAST(:close_deadlines AS boolean) AND application_id = :app_id AND closed_at IS NULL
            AND EXISTS (SELECT FROM event)
    ), opened AS (
        INSERT INTO deadlines (application_id, state, trigger, due_at, opened_seq)
        SELECT :app_id, :state, CAST(:deadline_trigger AS varchar), CAST(:due_at AS timestamptz), seq
        FROM event WHERE CAST(:due_at AS timestamptz) IS NOT NULL
    ), sent AS (
        INSERT INTO outbox (task, kwargs, application_id, created_at, attempts)
        SELECT task, :outbox_kwargs, :app_id, :outbox_at, 0 FROM event, unnest(CAST(:tasks AS varchar[])) AS task
    ), kept AS (
        INSERT INTO idempotency_records (actor_id, key, application_id, trigger, request_digest, response, created_at)
        SELECT CAST(:actor_id AS integer), CAST(:idempotency_key AS varchar), :app_id, :trigger, :digest,
            CAST(:response AS jsonb), :now
        FROM event WHERE CAST(:idempotency_key AS varchar) IS NOT NULL
    )
    SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM tip) AS tip
    """
).bindparams(
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("occurred_at", type_=DateTime(timezone=True)),
    bindparam("outbox_at", type_=DateTime(timezone=True)),
    bindparam("due_at", type_=DateTime(timezone=True)),
    bindparam("payload", type_=JSONB),
    bindparam("outbox_kwargs", type_=JSONB),
    bindparam("response", type_=JSONB(none_as_null=True)),
    bindparam("tasks", type_=ARRAY(String)),
)


@dataclass(frozen=True)
class Write:
    """What the one statement needs beyond the event: the move, the deadlines, the outbox and the key's record."""

    app_id: int
    state: str
    version: int
    now: dt.datetime
    close_deadlines: bool
    deadline: tuple[str, dt.datetime] | None  # (trigger, due) of the deadline the new state opens
    outbox_tasks: list[str]
    outbox_kwargs: dict[str, Any]
    outbox_at: dt.datetime
    idempotency: dict[str, Any] | None  # key, request_digest, response


def write(session: Session, event: dict[str, Any], move: Write) -> None:
    """The write phase as one statement; `event` is audit.event_values' row, hashed against the locked tip."""
    idem = move.idempotency or {}
    params = {
        **event,
        "head_id": audit.HEAD_ID,
        "app_id": move.app_id,
        "state": move.state,
        "version": move.version,
        "now": move.now,
        "close_deadlines": move.close_deadlines,
        "deadline_trigger": move.deadline[0] if move.deadline else None,
        "due_at": move.deadline[1] if move.deadline else None,
        "tasks": move.outbox_tasks,
        "outbox_kwargs": move.outbox_kwargs,
        "outbox_at": move.outbox_at,
        "idempotency_key": idem.get("key"),
        "digest": idem.get("request_digest"),
        "response": idem.get("response"),
    }
    moved, tip = session.connection().execute(_WRITE, params).one()
    if moved != 1:
        # fire() holds the row's lock, so only a write outside the engine could get here.
        raise StaleVersion(
            f"application {move.app_id} is no longer at version {move.version - 1}: reload and decide again",
            move.version - 1,
            move.version,
        )
    if tip != 1:
        raise RuntimeError("the audit chain's tip moved while it was locked")
