"""The engine benchmark's raw SQL: the same command issued through psycopg, and the timing and round-trip counting."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import event

from bench.engine_setup import COMMENT, CYCLE, LABEL, NOTIFY, SOURCE, Pool, _who
from workflow.db import db

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


# fire()'s own round trips as of this commit (see the listing the benchmark prints), hand-written.
RAWSAME_TRIPS = 12
RAWSAME = {
    "user": "SELECT id, username, role, district, organisation_id, active FROM users WHERE id = %s",
    "versions": "SELECT id, digest FROM programme_versions",
    "lock": "SELECT * FROM applications WHERE programme_version_id = ANY(%s) AND state != 'draft' AND {scope} "
    "AND id = %s FOR UPDATE OF applications",
    "head": "SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE",
    "head_update": "UPDATE audit_head SET last_seq = %s, last_hash = %s WHERE id = 1",
    # The district's record of a return (review.prereview's effect on return_for_correction).
    "prereview": "INSERT INTO prereviews (application_id, reviewer_id, decision, checks, opinion, points, event_seq, "
    "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
}


def rawsame_step(pool: Pool, cast: Any, conn: psycopg.Connection, pv_ids: list[int]) -> Callable[[], None]:
    """fire()'s 12 round trips issued raw: what its statements cost without the ORM and the Python around them."""

    def step() -> None:
        app_id, trigger, dest, version = pool.next()
        now, who = dt.datetime.now(dt.UTC), _who(cast, trigger)
        if who.role == "district_reviewer":
            scope, arg = "district = %s", who.district
        else:
            scope, arg = "organisation_id = %s", who.organisation_id
        with conn.cursor() as cur:
            cur.execute("SELECT 1")  # the pool's pre-ping; psycopg sends BEGIN before it, as under fire()
            cur.execute(RAWSAME["user"], (who.id,)).fetchone()
            cur.execute(RAWSAME["versions"]).fetchall()
            if cur.execute(RAWSAME["lock"].format(scope=scope), (pv_ids, arg, app_id)).fetchone() is None:
                raise RuntimeError(f"raw pool cannot see application {app_id}")
            cur.execute(RAW_UPDATE, (dest, version + 1, now, app_id))
            last_seq, last_hash = cur.execute(RAWSAME["head"]).fetchone()  # type: ignore[misc]
            digest = hashlib.sha256(f"{last_hash}:{app_id}:{trigger}".encode()).hexdigest()
            cur.execute(RAW_AUDIT, audit_row(last_seq + 1, now, who, app_id, trigger, (last_hash, digest)))
            cur.execute(RAWSAME["head_update"], (last_seq + 1, digest))
            cur.execute(RAW_OUTBOX, (NOTIFY, Jsonb({"application_id": app_id}), app_id, now)).fetchone()
            if trigger == "return_for_correction":
                checks = Jsonb(
                    dict.fromkeys(("form_authenticity", "legal_entity", "operations", "finances"), "not_checked")
                )
                record = (app_id, who.id, trigger, checks, "请补充", Jsonb(["请补充"]), last_seq + 1, now)
                cur.execute(RAWSAME["prereview"], record)
        conn.commit()
        pool.moved(app_id, dest)

    return step


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
