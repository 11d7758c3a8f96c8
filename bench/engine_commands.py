"""The engine benchmark's fire() steps (as now, and on the plain path) and the interleaved rounds of all methods."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import statistics
from collections.abc import Callable
from typing import Any

import psycopg

from bench.engine_raw import raw6_step, raw_round_trips, rawsame_plan, rawsame_step, round_trips, timed
from bench.engine_setup import COMMENT, CYCLE, Pool, _who, libpq_dsn
from workflow import engine_pg
from workflow.db import db
from workflow.engine import fire
from workflow.models import Application


def fire_step(pool: Pool, cast: Any) -> Callable[[], None]:
    def step() -> None:
        app_id, trigger, dest, version = pool.next()
        payload = COMMENT if trigger == "return_for_correction" else None
        fire(app_id, trigger, _who(cast, trigger).id, payload, expected_version=version)
        pool.moved(app_id, dest)

    return step


def plain_step(pool: Pool, cast: Any) -> Callable[[], None]:
    """fire() as before run I: the plain write path (engine_pg off) and the pool's pre-ping on every checkout."""
    inner = fire_step(pool, cast)
    assert db.engine is not None
    sql_pool: Any = db.engine.pool

    def step() -> None:
        engine_pg.enabled, sql_pool._pre_ping = False, True
        try:
            inner()
        finally:
            engine_pg.enabled, sql_pool._pre_ping = True, False

    return step


def listings(pool: Pool, count: Callable[[], list[str]]) -> dict[str, list[str]]:
    """One round-trip listing per command of the cycle: steps (untimed) until the pool has fired each."""
    out: dict[str, list[str]] = {}
    while len(out) < len(CYCLE):
        out.setdefault(pool.peek(), count())
    return out


# The rows fire() and rawsame write, counted over each one's pool: both pools took the same commands, so they match.
POOL_ROWS = {
    "audit_events": "SELECT count(*) FROM audit_events WHERE application_id = ANY(%s)",
    "outbox": "SELECT count(*) FROM outbox WHERE application_id = ANY(%s)",
    "deadlines": "SELECT count(*) FROM deadlines WHERE application_id = ANY(%s)",
    "prereviews": "SELECT count(*) FROM prereviews WHERE application_id = ANY(%s)",
    "return_requests": "SELECT count(*) FROM return_requests WHERE application_id = ANY(%s)",
    "answered": "SELECT count(*) FROM return_requests WHERE application_id = ANY(%s) AND answered_at IS NOT NULL",
    "revisions": "SELECT count(*) FROM revisions WHERE application_id = ANY(%s)",
}


def pool_rows(conn: psycopg.Connection, ids: list[int]) -> dict[str, int]:
    with conn.cursor() as cur:
        return {name: cur.execute(sql, (ids,)).fetchone()[0] for name, sql in POOL_ROWS.items()}  # type: ignore[index]


def measure_commands(
    url: str, setup: dict[str, Any], rounds: int, n: int, profile: int, plain: bool = False
) -> dict[str, Any]:
    cast, pools = setup["cast"], setup["pools"]
    with db.transaction() as session:
        plan = rawsame_plan(session, cast)
    raw_conn = psycopg.connect(libpq_dsn(url))
    fire_pool, same_pool = Pool(pools["fire"]), Pool(pools["rawsame"])
    steps = {
        "raw6": raw6_step(Pool(pools["raw6"]), cast, raw_conn),
        "rawsame": rawsame_step(same_pool, cast, raw_conn, plan),
        "fire": fire_step(fire_pool, cast),
    }
    if plain:
        steps["plain"] = plain_step(Pool(pools["plain"]), cast)
    for step in steps.values():  # warm: server-side prepared statements, compiled-SQL cache, definition cache
        timed(step, 50)
    trips = {
        "fire": listings(fire_pool, lambda: round_trips(steps["fire"])),
        "rawsame": listings(same_pool, lambda: raw_round_trips(raw_conn, steps["rawsame"])),
    }
    medians: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    every: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds):
        # Alternate the order too, so no method always follows the same one.
        for name in list(steps) if r % 2 == 0 else reversed(list(steps)):
            lat, cpu_per_op = timed(steps[name], n)
            medians[name].append(statistics.median(lat))
            cpu[name].append(cpu_per_op)
            every[name].extend(lat)
    profile_text = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(timed, steps["fire"], profile)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        text.write(f"Python function calls per fire(): {stats.total_calls / profile:,.0f}\n")  # type: ignore[attr-defined]
        stats.strip_dirs().sort_stats("cumulative").print_stats(int(os.environ.get("BENCH_PROFILE_ROWS", "32")))
        profile_text = text.getvalue()
    rows = {"fire": pool_rows(raw_conn, fire_pool.ids), "rawsame": pool_rows(raw_conn, same_pool.ids)}
    raw_conn.close()
    wrong = []  # sanity: the engine and rawsame left their pools where we think they are
    with db.transaction() as session:
        for pool in (fire_pool, same_pool):
            for app_id in pool.ids:
                app = session.get(Application, app_id)
                if app is None or (app.state, app.version) != (pool.state[app_id], pool.version[app_id]):
                    wrong.append(app_id)
    return {
        "medians": medians, "cpu": cpu, "every": every, "trips": trips, "profile": profile_text, "wrong": wrong,
        "rows": rows,
    }  # fmt: skip
