"""The engine benchmark's fire() steps (as now, and on the plain path) and the interleaved rounds of all methods."""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import select

from bench.engine_raw import raw6_step, rawsame_step, round_trips, timed
from bench.engine_setup import COMMENT, Pool, _who, libpq_dsn
from workflow import engine_pg
from workflow.db import db
from workflow.engine import fire
from workflow.models import Application, ProgrammeVersion


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


def measure_commands(
    url: str, setup: dict[str, Any], rounds: int, n: int, profile: int, plain: bool = False
) -> dict[str, Any]:
    cast, pools = setup["cast"], setup["pools"]
    with db.transaction() as session:
        pv_ids = list(session.scalars(select(ProgrammeVersion.id)))
    raw_conn = psycopg.connect(libpq_dsn(url))
    fire_pool = Pool(pools["fire"])
    steps = {
        "raw6": raw6_step(Pool(pools["raw6"]), cast, raw_conn),
        "rawsame": rawsame_step(Pool(pools["rawsame"]), cast, raw_conn, pv_ids),
        "fire": fire_step(fire_pool, cast),
    }
    if plain:
        steps["plain"] = plain_step(Pool(pools["plain"]), cast)
    for step in steps.values():  # warm: server-side prepared statements, compiled-SQL cache, definition cache
        timed(step, 50)
    trips = round_trips(steps["fire"])
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
        stats.strip_dirs().sort_stats("cumulative").print_stats(32)
        profile_text = text.getvalue()
    raw_conn.close()
    wrong = []  # sanity: the engine left its pool where we think it is
    with db.transaction() as session:
        for app_id in fire_pool.ids:
            app = session.get(Application, app_id)
            if app is None or (app.state, app.version) != (fire_pool.state[app_id], fire_pool.version[app_id]):
                wrong.append(app_id)
    return {"medians": medians, "cpu": cpu, "every": every, "trips": trips, "profile": profile_text, "wrong": wrong}
