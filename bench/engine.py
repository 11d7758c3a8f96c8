"""Benchmark: one fire() against the same SQL issued raw, and the memory of 10,000 live applications.

    python -m bench.engine [--database-url URL] [--fires N] [--rounds R] [--apps N] [--live 10000] [--profile N]

A URL without a database name (the default) gets a scratch database, created here and dropped at the end; a URL
that names a database is used as it is (migrated, never dropped). Not a test: it prints figures and exits 0, or 1
if a sanity check fails (an application not where the engine should have put it, more machines than versions).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import event, insert, make_url, select

from web.app import load_plugins
from web.core import migrate
from web.core.config import from_environment
from workflow import audit, engine_pg, operations, outbox
from workflow.db import db
from workflow.engine import allowed_triggers, fire, resolve_actor
from workflow.machine import machine_count, next_state
from workflow.models import Application, ProgrammeVersion
from workflow.visibility import programme_definitions, visible_applications

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The stage packages the app factory loads (WORKFLOW_PLUGINS in web/config.py): guards, effects, subscribers.
POOL_DISTRICT = "闵行区"
LIVE_DISTRICT = "浦东新区"  # the live rows sit apart, so the pools' reviewer never sees them
LABEL = "emc-acceptance@1"
COMMENT = {"comment": "请补充盖章页并更新能源计量器具配备表"}
CYCLE = {"district_review": ("return_for_correction", "returned"), "returned": ("resubmit", "district_review")}
SOURCE = {trigger: state for state, (trigger, _dest) in CYCLE.items()}
NOTIFY = "notifications.notify_transition"
# A form of the size a real submission carries: the ORM holds one per live application.
FORM = {
    "district": LIVE_DISTRICT,
    "contact": {"name": "王工", "phone": "021-5555-0100"},
    "annual_energy_tce": 12500,
    "metering_points": 240,
    "investment_yuan": "3860000.00",
    "summary": "能源管理中心一期：三级计量全覆盖，数据接入市级平台。" * 3,
}


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def connect(url: str) -> None:
    db.configure(url)
    settings = from_environment()
    load_plugins(settings["WORKFLOW_PLUGINS"])  # the same stage plugins the app loads
    audit.configure(settings["AUDIT_KEYS"])  # the chain is keyed, as in the app
    # The relay stays out of the timed region: no sender, no kicker; outbox rows are left pending.
    outbox.configure(None, None)


def libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def database(url: str) -> Iterator[str]:
    """The URL to benchmark on: the named database, or a scratch one dropped afterwards."""
    parsed = make_url(url)
    if parsed.database:
        yield url
        return
    with migrate.scratch_postgres(url, prefix="emc_bench") as scratch:
        yield scratch


def attach_required_rows(app_ids: list[int], user_id: int) -> None:
    """The attachment rows submit and resubmit require, inserted in bulk (the guard reads rows, not blobs)."""
    from applications.attachments import required_categories
    from applications.models import Attachment
    from forms.samples import sample_form

    digest = hashlib.sha256(b"bench").hexdigest()
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        _row, definition = operations.current_programme(session, "emc-acceptance")
    categories = required_categories(definition, "enterprise", sample_form("emc-acceptance", "enterprise"))
    rows = [
        {"application_id": app_id, "category": category, "filename": f"{category}.pdf", "version": 1,
         "content_type": "application/pdf", "size": 1, "sha256": digest, "blob_key": f"sha256/{digest[:2]}/{digest}",
         "uploaded_by_id": user_id, "uploaded_at": now}
        for app_id in app_ids
        for category in categories
    ]  # fmt: skip
    with db.transaction() as session:
        session.execute(insert(Attachment), rows)


def prepare(url: str, pool_size: int, live: int) -> dict[str, Any]:
    """Migrate, seed, a cast, three pools driven to district_review through fire(), and the live rows."""
    from tests.factories import make_cast, make_user, new_application

    migrate.upgrade(url)
    connect(url)
    with db.transaction() as session:
        operations.seed_programmes(session)
    cast = make_cast(POOL_DISTRICT)
    pools: dict[str, list[int]] = {}
    for method in ("fire", "raw6", "rawsame", "plain"):
        pools[method] = [new_application(cast, attach=False) for _ in range(pool_size)]
        attach_required_rows(pools[method], cast.applicant.id)
        for app_id in pools[method]:
            fire(app_id, "submit", cast.applicant.id)
    live_reviewer = make_user("district_reviewer", district=LIVE_DISTRICT)
    # The live rows only need to exist in a state: inserted in bulk, without their audit trail.
    with db.transaction() as session:
        pv_id = session.scalar(select(ProgrammeVersion.id).where(ProgrammeVersion.code == "emc-acceptance"))
        now = dt.datetime.now(dt.UTC)
        row: dict[str, Any] = {"programme_version_id": pv_id, "organisation_id": cast.org.id, "kind": "enterprise"}
        row["form"] = FORM
        row |= {"district": LIVE_DISTRICT, "state": "district_review", "version": 2, "created_by_id": cast.applicant.id}
        row |= {"created_at": now, "updated_at": now, "submitted_at": now}
        for start in range(0, live, 2000):
            batch = [
                {**row, "project_name": f"能源管理中心建设项目 {i}"} for i in range(start, min(live, start + 2000))
            ]
            session.execute(insert(Application), batch)
    return {"cast": cast, "pools": pools, "live_reviewer": live_reviewer.id}


# -- one command, three ways ---------------------------------------------------------------------------------------


class Pool:
    """Applications cycling district_review <-> returned, one after another; versions tracked here."""

    def __init__(self, ids: list[int]):
        self.ids = ids
        self.state = dict.fromkeys(ids, "district_review")
        self.version = dict.fromkeys(ids, 2)
        self.i = 0

    def next(self) -> tuple[int, str, str, int]:
        app_id = self.ids[self.i % len(self.ids)]
        self.i += 1
        trigger, dest = CYCLE[self.state[app_id]]
        return app_id, trigger, dest, self.version[app_id]

    def moved(self, app_id: int, dest: str) -> None:
        self.state[app_id] = dest
        self.version[app_id] += 1


def _who(cast: Any, trigger: str) -> Any:
    return cast.district_reviewer if trigger == "return_for_correction" else cast.applicant


def fire_step(pool: Pool, cast: Any) -> Callable[[], None]:
    def step() -> None:
        app_id, trigger, dest, version = pool.next()
        payload = COMMENT if trigger == "return_for_correction" else None
        fire(app_id, trigger, _who(cast, trigger).id, payload, expected_version=version)
        pool.moved(app_id, dest)

    return step


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


# -- memory: each probe in a fresh interpreter, so memory freed by the setup cannot hide growth --------------------


def _load(actor_id: int, limit: int) -> tuple[Any, list[Any]]:
    """Live applications as ORM objects, what each allows its reviewer now, and where each trigger lands."""
    session = db.sessionmaker()
    actor = resolve_actor(session, actor_id)
    definitions = programme_definitions(session)
    apps = list(session.scalars(visible_applications(session, actor).order_by(Application.id).limit(limit)))
    allowed = [allowed_triggers(session, app, actor, definitions[app.programme_version_id]) for app in apps]
    # A dry run through the shared machine: where each allowed trigger would take the row (left untouched).
    landing = [
        next_state(definitions[app.programme_version_id], app.state, trigger)
        for app, triggers in zip(apps, allowed, strict=True)
        for trigger in triggers
    ]
    return session, [apps, allowed, landing]


def _machine_kwargs(definition: Any, initial: str | None) -> dict[str, Any]:
    transitions = [{"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in definition.transitions]
    states = list(definition.states)
    return {
        "states": states,
        "transitions": transitions,
        "initial": initial,
        "auto_transitions": False,
        "send_event": True,
    }


def probe(kind: str, url: str, actor_id: int, n: int) -> dict[str, Any]:
    """'live': n applications held; 'machines': on top of n held, one transitions.Machine each (forbidden)."""
    from transitions import Machine

    connect(url)
    _load(actor_id, 10)[0].close()  # warm: imports, compiled-SQL cache, definition cache
    out: dict[str, Any] = {"kind": kind}
    for traced in (False, True):  # RSS first, free of tracemalloc's own overhead; then the Python heap
        gc.collect()
        if traced:
            tracemalloc.start()
        session: Any = None
        held: list[Any] = []
        if kind == "machines":
            session, held = _load(actor_id, n)
        gc.collect()
        rss, heap, start = rss_kib(), tracemalloc.get_traced_memory()[0], time.perf_counter()
        if kind == "live":
            session, held = _load(actor_id, n)
        else:
            definitions = programme_definitions(session)
            apps = held[0]
            kwargs = {app.id: _machine_kwargs(definitions[app.programme_version_id], app.state) for app in apps}
            held.append([Machine(model=app, **kwargs[app.id]) for app in apps])
        seconds = time.perf_counter() - start
        gc.collect()
        if traced:
            out["heap_kib"] = (tracemalloc.get_traced_memory()[0] - heap) / 1024
            tracemalloc.stop()
        else:
            out |= {"rss_kib": rss_kib() - rss, "seconds": seconds}
        out |= {"loaded": len(held[0]), "machines": machine_count(), "sample": held[1][0] if held[1] else []}
        out["versions"] = len({app.programme_version_id for app in held[0]})
        session.rollback()
        session.close()
        del held, session
    return out


def run_probe(kind: str, url: str, actor_id: int, n: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.engine", "--probe", kind, "--database-url", url]
    command += ["--probe-actor", str(actor_id), "--live", str(n)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe '{kind}' failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def shared_machine_kib() -> float:
    """The heap of one Machine built as machine_for() builds it (kept out of its cache)."""
    from transitions import Machine

    from workflow import definitions

    definition = next(d for d in definitions.shipped() if d.code == "emc-acceptance")
    gc.collect()
    tracemalloc.start()
    machine = Machine(model=None, **_machine_kwargs(definition, None))
    size = tracemalloc.get_traced_memory()[0] / 1024
    tracemalloc.stop()
    del machine
    return size


# -- report --------------------------------------------------------------------------------------------------------


def describe_machine(url: str) -> str:
    with psycopg.connect(libpq_dsn(url)) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "?")
    return f"PostgreSQL {server}, Python {platform.python_version()}, {os.cpu_count()} CPUs ({cpu})"


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def mib(kib: float) -> str:
    return f"{kib / 1024:,.1f} MiB"


def report_commands(m: dict[str, Any], rounds: int, n: int) -> None:
    med = {name: statistics.median(lat) for name, lat in m["every"].items()}
    cpu = {name: statistics.median(values) for name, values in m["cpu"].items()}
    ratios = [f / r for f, r in zip(m["medians"]["fire"], m["medians"]["raw6"], strict=True)]
    trips = len(m["trips"])
    print(f"\n(a, b) one command; {rounds} interleaved rounds x {n} per method; per-op medians")
    print("  return_for_correction (district reviewer, comment) / resubmit (applicant), with expected_version")
    print("  outbox: no sender and no kicker; the rows are left pending (the relay is not timed)")
    head = f"{'round trips':>12}{'median µs':>11}{'round medians µs':>19}{'client CPU µs':>15}{'× raw6':>8}"
    print(f"  {'method':<33}{head}")
    rows = (
        ("raw6", "raw psycopg: the issue's SQL", 6),
        ("rawsame", "raw psycopg: fire()'s own SQL", RAWSAME_TRIPS),
        ("fire", "workflow.engine.fire()", trips),
    )
    for name, title, count in rows:
        spread = f"{min(m['medians'][name]):,.0f}–{max(m['medians'][name]):,.0f}"
        ratio = med[name] / med["raw6"]
        print(f"  {title:<33}{count:>12}{med[name]:>11,.0f}{spread:>19}{cpu[name]:>15,.0f}{ratio:>7.2f}×")
    if "plain" in m["medians"]:
        name = "plain"
        spread = f"{min(m['medians'][name]):,.0f}–{max(m['medians'][name]):,.0f}"
        title = "fire(), plain path + pre-ping"
        times = f"{med[name]:>11,.0f}{spread:>19}{cpu[name]:>15,.0f}"
        print(f"  {title:<33}{'':>12}{times}{med[name] / med['raw6']:>7.2f}×")
        plain = [f / r for f, r in zip(m["medians"]["plain"], m["medians"]["raw6"], strict=True)]
        print(
            f"  ratio plain/raw6 = {statistics.median(plain):.2f}× ({min(plain):.2f}×–{max(plain):.2f}×): the "
            "write path before run I, interleaved with the others"
        )
    ratio = statistics.median(ratios)
    print(
        f"  RATIO fire/raw6 = {ratio:.2f}× (median of the {rounds} rounds' ratios; "
        f"{min(ratios):.2f}×–{max(ratios):.2f}×); goal ≤ 2×: {'met' if ratio <= 2 else 'MISSED'}"
    )
    print(
        f"  fire() {med['fire']:,.0f} µs = the issue's SQL {med['raw6']:,.0f} + {RAWSAME_TRIPS - 6} more round trips "
        f"{med['rawsame'] - med['raw6']:,.0f} + ORM and Python {med['fire'] - med['rawsame']:,.0f}"
    )
    statements = sum(1 for s in m["trips"] if s not in ("BEGIN", "COMMIT") and not s.startswith("SELECT 1 ("))
    print(f"  round trips of one fire(): {trips} = BEGIN, COMMIT, the pool's pre-ping and {statements} SQL statements")
    if trips != RAWSAME_TRIPS:
        print(
            f"  !! fire() now makes {trips} round trips: the rawsame column still mirrors the {RAWSAME_TRIPS} it made"
        )
    for i, statement in enumerate(m["trips"], 1):
        print(f"    {i:>2}. {statement[:108]}")
    if m["profile"]:
        print("  cProfile of fire(), by cumulative time:")
        print("\n".join("    " + line for line in m["profile"].strip().splitlines()))


def report_memory(live: dict[str, Any], base: dict[str, Any]) -> None:
    per = 10000 / live["loaded"]
    print("\n(c) resident memory of live applications (each probe in a fresh interpreter)")
    print(
        f"  {live['loaded']:,} applications as ORM objects, allowed_triggers + next_state for each, "
        f"{live['seconds']:.2f} s: RSS +{mib(live['rss_kib'])}, heap +{mib(live['heap_kib'])} (tracemalloc)"
    )
    print(f"    per 10,000 live applications: RSS {mib(live['rss_kib'] * per)}, heap {mib(live['heap_kib'] * per)}")
    print(
        f"  machine_count() = {live['machines']} for {live['versions']} definition version(s) in use "
        f"(the first row allows: {', '.join(live['sample'])}); one Machine's heap: {shared_machine_kib():.0f} KiB"
    )
    scale = 10000 / base["loaded"]
    print(
        f"  baseline, one transitions.Machine per application: {base['loaded']:,} built in {base['seconds']:.2f} s "
        f"({base['seconds'] / base['loaded'] * 1000:.2f} ms each): RSS +{mib(base['rss_kib'])}, "
        f"heap +{mib(base['heap_kib'])}"
    )
    print(
        f"    extrapolated to 10,000: RSS +{mib(base['rss_kib'] * scale)}, heap +{mib(base['heap_kib'] * scale)}, "
        f"{base['seconds'] * scale:.1f} s to build "
        f"({base['rss_kib'] * scale / max(live['rss_kib'] * per, 1):.1f}× the live applications themselves)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--fires", type=int, default=500, help="commands per method per round (default 500)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--apps", type=int, default=200, help="applications in each method's pool (default 200)")
    parser.add_argument("--live", type=int, default=10000, help="live applications held (default 10,000)")
    parser.add_argument("--baseline-machines", type=int, default=1000, help="per-application Machines (default 1,000)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also cProfile N fire() calls")
    parser.add_argument(
        "--plain", action="store_true", help="also time fire() on the plain path with pre-ping (as before run I)"
    )
    parser.add_argument("--probe", choices=("live", "machines"), help=argparse.SUPPRESS)
    parser.add_argument("--probe-actor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.database_url, args.probe_actor, args.live)))
        return 0

    started = time.perf_counter()
    with database(args.database_url) as url:
        print(f"EMC engine benchmark on {describe_machine(url)}; load average {load_average()}")
        setup = prepare(url, args.apps, args.live)
        print(f"setup: 3 pools x {args.apps} applications in district_review, {args.live:,} live rows")
        commands = measure_commands(url, setup, args.rounds, args.fires, args.profile, args.plain)
        assert db.engine is not None
        db.engine.dispose()
        live = run_probe("live", url, setup["live_reviewer"], args.live)
        base = run_probe("machines", url, setup["live_reviewer"], args.baseline_machines)
    report_commands(commands, args.rounds, args.fires)
    report_memory(live, base)
    ok = True
    if commands["wrong"]:
        ok = False
        print(f"!! applications not where fire() should have left them: {commands['wrong'][:10]}")
    if live["machines"] > live["versions"]:
        ok = False
        print("!! more machines than definition versions: the shared-machine design is broken")
    print(f"\ndone in {time.perf_counter() - started:.0f} s; load average {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
