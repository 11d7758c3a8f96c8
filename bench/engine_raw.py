"""The engine benchmark's raw SQL: the same command issued through psycopg, and the timing and round-trip counting."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, event
from sqlalchemy.orm import Session

from applications.models import CATEGORIES
from bench.engine_setup import COMMENT, CYCLE, LABEL, NOTIFY, SOURCE, Pool, _who
from review.prereview import CHECKS
from workflow import audit, engine_pg, registry
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import TRANSITIONED, default_due_at, resolve_actor
from workflow.models import Application
from workflow.visibility import programme_definitions, visible_applications

RAW_LOCK = "SELECT state, version FROM applications WHERE id = %s FOR UPDATE"
RAW_UPDATE = "UPDATE applications SET state = %s, version = %s, updated_at = %s WHERE id = %s"
RAW_AUDIT = (
    "INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, application_id, outcome, trigger, "
    "from_state, to_state, payload, definition, request_id, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, 'transition', %s, %s, %s, %s, %s, NULL, %s, %s)"
)
RAW_OUTBOX = (
    "INSERT INTO outbox (task, kwargs, application_id, created_at, attempts) VALUES (%s, %s, %s, %s, 0) RETURNING id"
)


def audit_row(seq: int, now: dt.datetime, who: Any, app_id: int, trigger: str, hashes: tuple[str, str]) -> list[Any]:
    """Parameters of RAW_AUDIT: the row fire() writes for this command."""
    payload = COMMENT if trigger == "return_for_correction" else {}
    row = [seq, now, who.id, who.username, who.role, app_id, trigger, SOURCE[trigger], CYCLE[SOURCE[trigger]][1]]
    return [*row, Jsonb(payload), LABEL, *hashes]


def raw6_step(pool: Pool, cast: Any, conn: psycopg.Connection) -> Callable[[], None]:
    """The issue's baseline: BEGIN; lock; update; audit insert; outbox insert; COMMIT (6 round trips)."""
    seq = [0]  # a range of its own (negative), never colliding with the chain fire() extends

    def step() -> None:
        app_id, trigger, dest, version = pool.next()
        now, who = dt.datetime.now(dt.UTC), _who(cast, trigger)
        seq[0] -= 1
        digest = hashlib.sha256(f"{seq[0]}:{app_id}:{trigger}".encode()).hexdigest()
        with conn.cursor() as cur:
            state, current = cur.execute(RAW_LOCK, (app_id,)).fetchone()  # type: ignore[misc]
            if current != version or CYCLE[state][0] != trigger:
                raise RuntimeError(f"raw pool out of step on application {app_id}")
            cur.execute(RAW_UPDATE, (dest, version + 1, now, app_id))
            cur.execute(RAW_AUDIT, audit_row(seq[0], now, who, app_id, trigger, ("0" * 64, digest)))
            cur.execute(RAW_OUTBOX, (NOTIFY, Jsonb({"application_id": app_id}), app_id, now)).fetchone()
        conn.commit()
        pool.moved(app_id, dest)

    return step


# -- rawsame: fire()'s own round trips, issued raw -----------------------------------------------------------------

# The round trips one fire() makes on PostgreSQL (BEGIN and COMMIT included) for each command of the cycle, as of
# this commit; rawsame issues exactly these. The report warns when fire()'s listing no longer has these counts.
RAWSAME_TRIPS = {"return_for_correction": 8, "resubmit": 11}
# The statements as SQLAlchemy's psycopg dialect renders them for fire(): engine_pg's two are compiled from their
# text, the visibility lock per actor in rawsame_plan; these are copied from fire()'s listing (the report compares).
RAWSAME = {
    "head": "SELECT audit_head.last_seq, audit_head.last_hash FROM audit_head "
    "WHERE audit_head.id = %(id_1)s::INTEGER FOR UPDATE",
    # resubmit's guard: the required attachments are there (applications.attachments).
    "required": "SELECT attachments.category FROM attachments "
    "WHERE attachments.application_id = %(application_id_1)s::INTEGER AND attachments.superseded_at IS NULL",
    # return_for_correction's effects: review.prereview.record_prereview and review.returns.record_return_points.
    "prereview": "INSERT INTO prereviews (application_id, reviewer_id, decision, checks, opinion, points, event_seq, "
    "created_at) VALUES (%(application_id)s::INTEGER, %(reviewer_id)s::INTEGER, %(decision)s::VARCHAR, "
    "%(checks)s::JSONB, %(opinion)s::VARCHAR, %(points)s::JSONB, %(event_seq)s::BIGINT, "
    "%(created_at)s::TIMESTAMP WITH TIME ZONE) RETURNING prereviews.id",
    "return": "INSERT INTO return_requests (application_id, trigger, items, comment, returned_by_id, returned_seq, "
    "returned_at) VALUES (%(application_id)s::INTEGER, %(trigger)s::VARCHAR, %(items)s::JSONB, %(comment)s::VARCHAR, "
    "%(returned_by_id)s::INTEGER, %(returned_seq)s::BIGINT, %(returned_at)s::TIMESTAMP WITH TIME ZONE) "
    "RETURNING return_requests.id",
    # resubmit's effects: review.revisions.record_revision and review.returns.record_return_points.
    "number": "SELECT max(revisions.number) AS max_1 FROM revisions "
    "WHERE revisions.application_id = %(application_id_1)s::INTEGER",
    "snapshot": "SELECT attachments.id, attachments.category, attachments.filename, attachments.sha256, "
    "attachments.version FROM attachments "
    "WHERE attachments.application_id = %(application_id_1)s::INTEGER AND attachments.superseded_at IS NULL",
    "revision": "INSERT INTO revisions (application_id, number, trigger, form, attachments, supplement, "
    "return_answers, created_at, created_by_id, event_seq) VALUES (%(application_id)s::INTEGER, "
    "%(number)s::INTEGER, %(trigger)s::VARCHAR, %(form)s::JSONB, %(attachments)s::JSONB, %(supplement)s::JSONB, "
    "%(return_answers)s::JSONB, %(created_at)s::TIMESTAMP WITH TIME ZONE, %(created_by_id)s::INTEGER, "
    "%(event_seq)s::BIGINT) RETURNING revisions.id",
    "answer": "UPDATE return_requests SET answers=%(answers)s::JSONB, answered_at=%(answered_at)s::TIMESTAMP WITH "
    "TIME ZONE, answered_seq=%(answered_seq)s::BIGINT WHERE return_requests.application_id = "
    "%(application_id_1)s::INTEGER AND return_requests.answered_at IS NULL",
}
_ORDER = {category: n for n, category in enumerate(CATEGORIES)}  # a revision's attachments, as review.revisions


@dataclass(frozen=True)
class Plan:
    """What rawsame has ready before it is timed, as fire() has it cached: the statements, the definitions."""

    actor_and_versions: str
    write: str
    lock: dict[int, tuple[str, dict[str, Any]]]  # by actor id: the visibility lock and its scope's parameters
    column: dict[str, int]  # the lock's row, by column name
    definitions: dict[int, Definition]  # by programme version id
    key_id: str
    tasks: list[str]


def rawsame_plan(session: Session, cast: Any) -> Plan:
    dialect = session.get_bind().dialect
    definitions = programme_definitions(session)
    lock = {}
    for user in (cast.district_reviewer, cast.applicant):
        who = resolve_actor(session, user.id)
        query = visible_applications(session, who, definitions).where(Application.id == bindparam("b_app_id", 0))
        query = query.with_for_update(of=Application)  # as workflow.visibility.get_visible(lock=True)
        compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        lock[who.id] = (compiled.string, dict(compiled.params))
    event = audit.event_values(0, audit.GENESIS, actor=who, outcome="transition", application_id=None)
    return Plan(
        actor_and_versions=engine_pg._ACTOR_AND_VERSIONS.compile(dialect=dialect).string,
        write=engine_pg._WRITE.compile(dialect=dialect).string,
        lock=lock,
        column={column.name: i for i, column in enumerate(query.selected_columns)},
        definitions=definitions,
        key_id=event["key_id"],
        tasks=registry.SUBSCRIBERS.get(TRANSITIONED, []),
    )


def _record_return(cur: psycopg.Cursor[Any], app_id: int, who: Any, seq: int, now: dt.datetime) -> None:
    """return_for_correction's effects as fire() writes them for COMMENT: the prereview and the return request."""
    comment, trigger = COMMENT["comment"], "return_for_correction"
    checks = Jsonb(dict.fromkeys(CHECKS, "not_checked"))
    prereview = {"application_id": app_id, "reviewer_id": who.id, "decision": trigger, "checks": checks}
    prereview |= {"opinion": "", "points": Jsonb([comment]), "event_seq": seq, "created_at": now}
    cur.execute(RAWSAME["prereview"], prereview).fetchone()
    request = {"application_id": app_id, "trigger": trigger, "items": Jsonb([{"id": "1", "text": comment}])}
    request |= {"comment": comment, "returned_by_id": who.id, "returned_seq": seq, "returned_at": now}
    cur.execute(RAWSAME["return"], request).fetchone()


def _record_resubmission(
    cur: psycopg.Cursor[Any], app_id: int, who: Any, seq: int, now: dt.datetime, form: Any
) -> None:
    """resubmit's effects: revision n+1 (the form, the current attachments) and the open return answered."""
    by_app = {"application_id_1": app_id}
    number = cur.execute(RAWSAME["number"], by_app).fetchone()[0]  # type: ignore[index]
    rows = sorted(cur.execute(RAWSAME["snapshot"], by_app).fetchall(), key=lambda a: (_ORDER.get(a[1], 99), a[1], a[0]))
    keys = ("attachment_id", "category", "filename", "sha256", "version")
    snapshot = [dict(zip(keys, a, strict=True)) for a in rows]
    revision = {"application_id": app_id, "number": (number or 0) + 1, "trigger": "resubmit", "form": Jsonb(form)}
    revision |= {"attachments": Jsonb(snapshot), "supplement": Jsonb(None), "return_answers": Jsonb(None)}
    cur.execute(RAWSAME["revision"], {**revision, "created_at": now, "created_by_id": who.id, "event_seq": seq})
    cur.fetchone()
    cur.execute(RAWSAME["answer"], {"answers": Jsonb({}), "answered_at": now, "answered_seq": seq, **by_app})


def rawsame_step(pool: Pool, cast: Any, conn: psycopg.Connection, plan: Plan) -> Callable[[], None]:
    """fire()'s own round trips issued raw (RAWSAME_TRIPS: 8 on a return, 11 on a resubmission), its statements and
    parameters, the same rows: what its SQL costs without the ORM and the Python around it. The audit row is hashed
    against the locked tip with a plain SHA-256, as raw6's."""
    col = plan.column

    def step() -> None:
        app_id, trigger, dest, version = pool.next()
        who, returning = _who(cast, trigger), trigger == "return_for_correction"
        lock, scope = plan.lock[who.id]
        with conn.cursor() as cur:
            user = cur.execute(plan.actor_and_versions, {"b_id": who.id}).fetchone()
            if user is None or not user[5]:
                raise RuntimeError(f"raw pool: account {who.id} missing or deactivated")
            row = cur.execute(lock, {**scope, "b_app_id": app_id}).fetchone()
            if row is None or (row[col["state"]], row[col["version"]]) != (SOURCE[trigger], version):
                raise RuntimeError(f"raw pool out of step on application {app_id}")
            definition = plan.definitions[row[col["programme_version_id"]]]
            if not returning:
                cur.execute(RAWSAME["required"], {"application_id_1": app_id}).fetchall()
            last_seq, last_hash = cur.execute(RAWSAME["head"], {"id_1": audit.HEAD_ID}).fetchone()  # type: ignore[misc]
            seq, now = last_seq + 1, dt.datetime.now(dt.UTC)
            spec = definition.deadlines.get(dest)
            due = default_due_at(spec, now) if spec is not None else None
            write = {"state": dest, "version": version + 1, "now": now, "app_id": app_id, "seq": seq}
            write |= {"occurred_at": now, "actor_id": who.id, "actor": who.username, "role": who.role}
            write |= {"application_id": app_id, "outcome": "transition", "trigger": trigger}
            write |= {"from_state": SOURCE[trigger], "to_state": dest, "payload": Jsonb(COMMENT if returning else {})}
            write |= {"definition": definition.label, "request_id": None, "prev_hash": last_hash}
            write |= {"hash": hashlib.sha256(f"{last_hash}:{app_id}:{trigger}".encode()).hexdigest()}
            write |= {"key_id": plan.key_id, "app_version": version + 1, "head_id": audit.HEAD_ID}
            write |= {"close_deadlines": SOURCE[trigger] in definition.deadlines}
            write |= {"deadline_trigger": spec.trigger if spec is not None else None, "due_at": due}
            write |= {"outbox_kwargs": Jsonb({"application_id": app_id, "event_seq": seq}), "outbox_at": now}
            write |= {"tasks": plan.tasks, "idempotency_key": None, "digest": None, "response": None}
            if cur.execute(plan.write, write).fetchone() != (1, 1):
                raise RuntimeError(f"raw pool: application {app_id} or the chain's tip did not move")
            if returning:
                _record_return(cur, app_id, who, seq, now)
            else:
                _record_resubmission(cur, app_id, who, seq, now, row[col["form"]])
        conn.commit()
        pool.moved(app_id, dest)

    return step


def raw_round_trips(conn: psycopg.Connection, step: Callable[[], None]) -> list[str]:
    """Every round trip one raw step makes: psycopg's BEGIN, each statement, the COMMIT (as round_trips lists)."""
    seen = ["BEGIN"]

    class Recording(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            seen.append(" ".join(str(query).split()))
            return super().execute(query, params, **kwargs)

    factory = conn.cursor_factory
    conn.cursor_factory = Recording
    try:
        step()
    finally:
        conn.cursor_factory = factory
    return [*seen, "COMMIT"]


# -- measuring -----------------------------------------------------------------------------------------------------


def timed(step: Callable[[], None], n: int) -> tuple[list[float], float]:
    """Per-op wall time (µs), and this process's CPU time per op (µs): the client's own work."""
    out = []
    clock = time.perf_counter_ns
    cpu = time.process_time_ns()
    for _ in range(n):
        start = clock()
        step()
        out.append((clock() - start) / 1000)
    return out, (time.process_time_ns() - cpu) / 1000 / n


def round_trips(step: Callable[[], None]) -> list[str]:
    """Every round trip one fire() makes: cursor statements, the pool's pre-ping, BEGIN and COMMIT."""
    assert db.engine is not None
    seen: list[str] = []

    def wire(statement: str) -> None:
        if not seen or seen[-1] == "COMMIT":  # psycopg opens the transaction with a BEGIN of its own
            seen.append("BEGIN")
        seen.append(statement)

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        wire(" ".join(statement.split()))

    def on_commit(_conn: Any) -> None:
        seen.append("COMMIT")

    dialect = db.engine.dialect
    ping = dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:  # not a cursor event: SQLAlchemy pings on the raw connection
        wire("SELECT 1 (pool_pre_ping, on checkout)")
        return ping(dbapi_connection)

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "commit", on_commit)
    dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        step()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "commit", on_commit)
        dialect.do_ping = ping  # type: ignore[method-assign]
    return seen
