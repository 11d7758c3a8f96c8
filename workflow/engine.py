"""fire(): one command on one application, in one transaction, recorded in the audit chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow import audit, engine_pg, outbox, references, registry, workdays
from workflow.accounts import SYSTEM, SYSTEM_ROLE, Actor, ActorSnapshot, SystemActor, User
from workflow.db import db, table_of, utcnow
from workflow.definitions import DeadlineDef, Definition, TransitionDef, canonical_json
from workflow.errors import (
    Forbidden,
    GuardFailed,
    IdempotencyConflict,
    NotAllowedNow,
    Problem,
    StaleVersion,
    WorkflowError,
)
from workflow.machine import next_state
from workflow.models import Application, Deadline, IdempotencyRecord
from workflow.registry import Context
from workflow.visibility import get_visible, programme_definitions, visible_or_not_found
from workflow.workdays import SHANGHAI

log = logging.getLogger(__name__)

TRANSITIONED = "transitioned"


@dataclass(frozen=True)
class FireResult:
    application_id: int
    trigger: str
    from_state: str
    state: str
    version: int
    event_seq: int
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_users = table_of(User)
_LOAD_ACTOR = select(
    _users.c.id, _users.c.username, _users.c.role, _users.c.district, _users.c.organisation_id, _users.c.active
).where(_users.c.id == bindparam("b_id"))


def resolve_actor(session: Session, actor: Actor | int) -> Actor:
    """The actor as the database knows it now (role and scope may have changed since login)."""
    if isinstance(actor, SystemActor):
        return actor
    user_id = actor if isinstance(actor, int) else actor.id
    row = session.connection().execute(_LOAD_ACTOR, {"b_id": user_id}).first()
    if row is None:
        raise Forbidden(f"no account with id {user_id}")
    if not row.active:
        raise Forbidden(f"account '{row.username}' is deactivated")
    return ActorSnapshot(**row._asdict())


def command_target(
    session: Session,
    actor: Actor | int,
    application_id: int,
    *,
    roles: Collection[str] | None = None,
    doing: str = "do this",
    definitions: dict[int, Definition] | None = None,
) -> tuple[Actor, Application]:
    """A command's preamble: the actor as the database knows it, its role checked (when `roles` are given), and
    the application locked if they may see it; else NotFound, worded as for an id that does not exist."""
    who = resolve_actor(session, actor)
    if roles is not None and who.role not in roles:
        raise Forbidden(f"role '{who.role}' may not {doing}")
    return who, visible_or_not_found(session, who, application_id, lock=True, definitions=definitions)


def run_rules(ctx: Context, transition: TransitionDef) -> str | None:
    for ref in transition.rules:
        name, args = registry.split(ref)
        fn = registry.RULES.get(name)
        if fn is None:
            raise RuntimeError(f"rule '{name}' used by {ctx.definition.label} is not registered")
        reason = fn(ctx, *args)
        if reason:
            return reason
    return None


def allowed_triggers(session: Session, application: Application, actor: Actor, definition: Definition) -> list[str]:
    """Triggers `actor` may fire now (role and rules; guards may still refuse with reasons)."""
    out = []
    for t in definition.from_state(application.state):
        if actor.role not in t.roles:
            continue
        ctx = Context(session, application, actor, t.trigger, {}, definition, t, application.state)
        if run_rules(ctx, t) is None:
            out.append(t.trigger)
    return list(dict.fromkeys(out))


def awaits(session: Session, application: Application, actor: Actor, definition: Definition) -> list[str]:
    """The triggers the application waits for `actor` to fire: allowed to them, and not refused by a guard that
    decides by who the actor is (four eyes: the proposer is not the one an approval waits for)."""
    out = []
    for trigger in allowed_triggers(session, application, actor, definition):
        t = definition.transition(trigger, application.state)
        if t is None:
            continue
        ctx = Context(session, application, actor, trigger, {}, definition, t, application.state)
        refused = False
        for ref in t.guards:
            name, args = registry.split(ref)
            if name in registry.ACTOR_GUARDS and any(registry.GUARDS[name](ctx, *args)):
                refused = True
        if not refused:
            out.append(trigger)
    return out


def _blank(value: Any) -> bool:
    # A comment of only spaces explains nothing: it counts as missing.
    return value is None or value in ([], {}) or (isinstance(value, str) and not value.strip())


def check_guards(ctx: Context) -> list[Problem]:
    """Every reason the transition may not happen: required payload fields, then each guard."""
    problems = [
        Problem(name, "required", f"'{name}' is required to {ctx.trigger}")
        for name in ctx.transition.requires
        if _blank(ctx.payload.get(name))
    ]
    for ref in ctx.transition.guards:
        name, args = registry.split(ref)
        fn = registry.GUARDS.get(name)
        if fn is None:
            raise RuntimeError(f"guard '{name}' used by {ctx.definition.label} is not registered")
        problems.extend(fn(ctx, *args))
    for standing in registry.STANDING_GUARDS:
        problems.extend(standing(ctx))
    return problems


def _due_at(definition: Definition, state: str, payload: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    spec = definition.deadlines.get(state)
    if spec is None:
        return None
    raw = payload.get(spec.due_from) if spec.due_from else None
    if raw:
        try:
            day = dt.date.fromisoformat(str(raw)[:10])
            # Due all day in Shanghai: it lapses at the following midnight, local time.
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)
        except ValueError:
            log.warning("unparseable due date %r; using the default of %s days", raw, spec.default_days)
    return default_due_at(spec, now)


def default_due_at(spec: DeadlineDef, now: dt.datetime) -> dt.datetime:
    """When a deadline falls if the command names no date: N days, or N working days (all of the last day)."""
    if not spec.working_days:
        return now + dt.timedelta(days=spec.default_days)
    last = workdays.add_working_days(workdays.today_in_shanghai(now), spec.default_days)
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)


# The write phase runs in every command: prebuilt Core statements, not the ORM's unit of work.
_applications = table_of(Application)
_deadlines = table_of(Deadline)
_idempotency = table_of(IdempotencyRecord)
_MOVE_APPLICATION = (
    update(_applications)
    .where(_applications.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state"), version=bindparam("b_version"), updated_at=bindparam("b_now"))
)
_CLOSE_DEADLINES = (
    update(_deadlines)
    .where(_deadlines.c.application_id == bindparam("b_application_id"), _deadlines.c.closed_at.is_(None))
    .values(closed_at=bindparam("b_now"))
)


def _move_deadlines(ctx: Context, new_state: str, now: dt.datetime) -> None:
    """Leaving a state closes its deadline; entering one with a deadline opens it (same transaction)."""
    conn = ctx.session.connection()
    if ctx.from_state in ctx.definition.deadlines:  # deadlines only ever open in states that define one
        conn.execute(_CLOSE_DEADLINES, {"b_application_id": ctx.application.id, "b_now": now})
    due_at = _due_at(ctx.definition, new_state, ctx.payload, now)
    if due_at is not None:
        spec = ctx.definition.deadlines[new_state]
        conn.execute(
            _deadlines.insert(),
            {
                "application_id": ctx.application.id,
                "state": new_state,
                "trigger": spec.trigger,
                "due_at": due_at,
                "opened_seq": ctx.event_seq,
            },
        )


def _move_application(
    session: Session, app: Application, state: str, now: dt.datetime, submits: bool, programme: str, move: bool = True
) -> None:
    """UPDATE the locked row, and keep the loaded object in step without marking it dirty. The first submission
    stamps the time and takes the reference number (申报编号); a resubmission keeps both. `move` False: only those
    (the one-statement path moves the row itself)."""
    conn = session.connection()
    changed: dict[str, Any] = {}
    if move:
        version = app.version + 1
        conn.execute(_MOVE_APPLICATION, {"b_id": app.id, "b_state": state, "b_version": version, "b_now": now})
        changed = {"state": state, "version": version, "updated_at": now}
    if submits and app.submitted_at is None:
        conn.execute(update(_applications).where(_applications.c.id == app.id).values(submitted_at=now))
        changed["submitted_at"] = now
    if submits and app.reference is None:
        reference = references.assign(session, programme, app.district, now)
        conn.execute(update(_applications).where(_applications.c.id == app.id).values(reference=reference))
        changed["reference"] = reference
    for name, value in changed.items():
        set_committed_value(app, name, value)


def _request_digest(application_id: int, trigger: str, payload: dict[str, Any], expected: int | None) -> str:
    body = {"application_id": application_id, "trigger": trigger, "payload": payload, "expected_version": expected}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _fire(
    session: Session,
    application_id: int,
    trigger: str,
    actor: Actor,
    payload: dict[str, Any],
    expected_version: int | None,
    idempotency_key: str | None,
    request_id: str | None,
    definitions: dict[int, Definition],
    one_statement: bool,
) -> FireResult:
    # Lock the row and check that the actor may see it in one statement: unseen is "not found".
    app = visible_or_not_found(session, actor, application_id, lock=True, definitions=definitions)

    digest = _request_digest(application_id, trigger, payload, expected_version)
    if idempotency_key:
        seen = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.actor_id == actor.id, IdempotencyRecord.key == idempotency_key
            )
        ).one_or_none()
        if seen is not None:
            if seen.request_digest != digest:
                raise IdempotencyConflict(
                    f"Idempotency-Key '{idempotency_key}' was already used for a different command "
                    f"({seen.trigger} on application {seen.application_id})"
                )
            return FireResult(**{**seen.response, "replayed": True})

    definition = definitions[app.programme_version_id]
    if trigger not in definition.triggers:
        allowed = allowed_triggers(session, app, actor, definition)
        raise NotAllowedNow(
            f"'{trigger}' is not a trigger of {definition.label}; you may now: {', '.join(allowed) or 'nothing'}",
            app.state,
            allowed,
        )
    if expected_version is not None and expected_version != app.version:
        raise StaleVersion(
            f"application {app.id} is at version {app.version}, not {expected_version}: "
            "someone changed it since you loaded it; reload and decide again",
            expected_version,
            app.version,
        )
    if actor.role not in definition.roles_for(trigger):
        raise Forbidden(
            f"role '{actor.role}' may not {trigger}; in {definition.label} that is for: "
            + ", ".join(sorted(definition.roles_for(trigger)))
        )
    transition = definition.transition(trigger, app.state)
    if transition is None or actor.role not in transition.roles:
        allowed = allowed_triggers(session, app, actor, definition)
        raise NotAllowedNow(
            f"'{trigger}' is not allowed while the application is in state '{app.state}'; "
            f"you may now: {', '.join(allowed) or 'nothing'}",
            app.state,
            allowed,
        )

    from_state = app.state
    ctx = Context(session, app, actor, trigger, payload, definition, transition, from_state, request_id)
    reason = run_rules(ctx, transition)
    if reason:
        raise Forbidden(reason)
    problems = check_guards(ctx)
    if problems:
        raise GuardFailed(f"{trigger} refused: " + "; ".join(p.message for p in problems), problems)

    new_state = next_state(definition, from_state, trigger)
    now = utcnow()
    idempotency = {"key": idempotency_key, "request_digest": digest} if idempotency_key else None
    if one_statement:
        return _write_one_statement(ctx, new_state, now, idempotency)
    _move_application(session, app, new_state, now, transition.submits, definition.code)
    event = audit.append(session, **_event_fields(ctx, new_state))
    ctx.event_seq = event.seq
    _move_deadlines(ctx, new_state, now)
    _run_effects(ctx)
    outbox.publish(session, TRANSITIONED, {"application_id": app.id, "event_seq": event.seq}, application_id=app.id)
    result = FireResult(app.id, trigger, from_state, new_state, app.version, event.seq)
    if idempotency:
        session.connection().execute(
            _idempotency.insert(),
            {
                "actor_id": actor.id,
                "key": idempotency_key,
                "application_id": app.id,
                "trigger": trigger,
                "request_digest": digest,
                "response": _response(result),
                "created_at": now,
            },
        )
    return result


def _response(result: FireResult) -> dict[str, Any]:
    """What an idempotency record keeps: the result, replayed from it later."""
    response = result.as_dict()
    response.pop("replayed")
    return response


def _event_fields(ctx: Context, new_state: str) -> dict[str, Any]:
    return {
        "actor": ctx.actor,
        "outcome": "transition",
        "application_id": ctx.application.id,
        "payload": ctx.payload,
        "trigger": ctx.trigger,
        "from_state": ctx.from_state,
        "to_state": new_state,
        "definition": ctx.definition.label,
        "request_id": ctx.request_id,
        "app_version": ctx.application.version,
    }


def _run_effects(ctx: Context) -> None:
    """The definition's effects, then the stages' standing ones: in the command's transaction, after its event."""
    for ref in ctx.transition.effects:
        name, args = registry.split(ref)
        fn = registry.EFFECTS.get(name)
        if fn is None:
            raise RuntimeError(f"effect '{name}' used by {ctx.definition.label} is not registered")
        fn(ctx, *args)
    for standing in registry.STANDING_EFFECTS:
        standing(ctx)


def _write_one_statement(
    ctx: Context, new_state: str, now: dt.datetime, idempotency: dict[str, Any] | None
) -> FireResult:
    """PostgreSQL: lock the chain's tip, hash the event, then one statement moves the application and writes the
    event, the tip, the deadlines, the outbox and the key's record; the effects follow, as on the plain path."""
    session, app, definition = ctx.session, ctx.application, ctx.definition
    # The first submission's stamp and reference number: rare, so plain statements (and the version unchanged).
    _move_application(session, app, new_state, now, ctx.transition.submits, definition.code, move=False)
    version = app.version + 1
    set_committed_value(app, "version", version)
    event = audit.event_values(*audit.lock_head(session), **_event_fields(ctx, new_state))
    result = FireResult(app.id, ctx.trigger, ctx.from_state, new_state, version, event["seq"])
    spec = definition.deadlines.get(new_state)
    due_at = _due_at(definition, new_state, ctx.payload, now)
    move = engine_pg.Write(
        app_id=app.id,
        state=new_state,
        version=version,
        now=now,
        close_deadlines=ctx.from_state in definition.deadlines,
        deadline=(spec.trigger, due_at) if spec is not None and due_at is not None else None,
        outbox_tasks=registry.SUBSCRIBERS.get(TRANSITIONED, []),
        outbox_kwargs={"application_id": app.id, "event_seq": event["seq"]},
        outbox_at=utcnow(),
        idempotency={**idempotency, "response": _response(result)} if idempotency else None,
    )
    engine_pg.write(session, event, move)
    for name, value in (("state", new_state), ("updated_at", now)):
        set_committed_value(app, name, value)
    ctx.event_seq = event["seq"]
    _run_effects(ctx)
    return result


def _normalise(payload: dict[str, Any] | None) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise TypeError("payload must be a JSON object")
    return json.loads(canonical_json(payload))


def record_denial(
    actor: Actor | int,
    application_id: int | None,
    trigger: str | None,
    error: WorkflowError,
    payload: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    """Append a 'denied' event in its own transaction (the command's own was rolled back)."""
    try:
        with db.transaction() as session:
            try:
                who = resolve_actor(session, actor)
            except Forbidden:
                user_id = actor if isinstance(actor, int) else getattr(actor, "id", None)
                # A deactivated account is still named; only an id with no account at all is "unknown".
                known = session.get(User, user_id) if user_id is not None else None
                who = known or SystemActor(username=f"unknown#{user_id}", role="unknown")  # type: ignore[arg-type]
            found = get_visible(session, SYSTEM, application_id) if application_id is not None else None
            state = found.state if found is not None else None
            audit.append(
                session,
                actor=who,
                outcome="denied",
                application_id=application_id,
                trigger=trigger,
                from_state=state,
                payload={"error": error.code, "detail": error.detail, "request": payload or {}},
                request_id=request_id,
            )
    except Exception:
        log.exception("could not record a denied attempt on application %s", application_id)


def fire(
    application_id: int,
    trigger: str,
    actor: Actor | int,
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    request_id: str | None = None,
) -> FireResult:
    """Fire `trigger` on an application as `actor`; raise a WorkflowError saying why not."""
    clean = _normalise(payload)
    for attempt in (1, 2):
        committing = False
        try:
            with db.transaction() as session:
                one_statement = engine_pg.enabled and session.get_bind().dialect.name == "postgresql"
                if one_statement:
                    who, definitions = engine_pg.actor_and_definitions(session, actor)
                else:
                    who, definitions = resolve_actor(session, actor), programme_definitions(session)
                result = _fire(
                    session, application_id, trigger, who, clean, expected_version, idempotency_key, request_id,
                    definitions, one_statement,
                )  # fmt: skip
                committing = True
            break
        except WorkflowError as exc:
            record_denial(actor, application_id, trigger, exc, clean, request_id)
            raise
        except DBAPIError as exc:
            # No pre-ping on checkout (workflow/db.py): a connection the server dropped fails here instead, and the
            # pool discards it and every connection as old. Before COMMIT the server rolled the work back, so one
            # retry is safe; at COMMIT the outcome is unknown, and only an idempotency key makes a retry safe (it
            # replays what did commit).
            if attempt == 2 or not exc.connection_invalidated or (committing and not idempotency_key):
                raise
            where = "at" if committing else "before"
            log.warning("connection lost %s COMMIT; retrying %s on %s once", where, trigger, application_id)
    if not result.replayed:
        outbox.kick()
    return result


def fire_as_system(application_id: int, trigger: str, **kwargs: Any) -> FireResult:
    return fire(application_id, trigger, SYSTEM, **kwargs)


__all__ = ["SYSTEM_ROLE", "FireResult", "allowed_triggers", "fire", "fire_as_system", "record_denial"]
