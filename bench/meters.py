"""Meter evidence at scale on PostgreSQL (issue 12): ingest a simulated file with COPY, then a full evidence run.

    python -m bench.meters                       # 1,000 meters × 183 days × 96 readings = 17.6 M rows
    python -m bench.meters --meters 100 --days 30   # a quick look

Each figure is a ratio against a baseline measured in the same run on the same data (the machines are shared):
- ingestion rate ÷ a bare `COPY` of the same file into an unindexed table (goal ≥ 0.5);
- a full evidence run (every check and the pictures' figures, as a snapshot computes them) ÷ one
  `SELECT meter_id, count(*) … GROUP BY meter_id` scan of the same rows (goal ≤ 3).
Peak memory of this process is sampled (VmRSS every 20 ms) during each, against its level before.

A URL without a database name (the default) gets a scratch database, created and dropped here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from meters import bulk, checks, figures, registry, simulate
from meters.rules import rules
from web.core import migrate
from web.core.config import from_environment
from workflow import audit
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db

T = TypeVar("T")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


@contextmanager
def peak_memory() -> Iterator[dict[str, int]]:
    """Samples this process's resident memory while the block runs: {'before', 'peak'} in KiB."""
    seen = {"before": rss_kib(), "peak": rss_kib()}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            seen["peak"] = max(seen["peak"], rss_kib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        done.set()
        thread.join()
        seen["peak"] = max(seen["peak"], rss_kib())


def timed(work: Callable[[], T]) -> tuple[float, T, dict[str, int]]:
    with peak_memory() as memory:
        start = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - start
    return elapsed, result, memory


@contextmanager
def database(url: str) -> Iterator[str]:
    if make_url(url).database:
        yield url
        return
    with migrate.scratch_postgres(url, prefix="emc_bench") as scratch:
        yield scratch


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def bare_copy(url: str, path: Path) -> float:
    """The baseline: the same file into an unindexed table of typed columns, in one transaction."""
    with psycopg.connect(dsn(url)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_bare (point_code text, at timestamptz, value numeric(20, 6))")
        conn.commit()
        start = time.perf_counter()
        with path.open("rb") as stream, cur.copy("COPY bench_bare FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while chunk := stream.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE bench_bare")
        conn.commit()
    return elapsed


def count_scan(url: str, org_id: int, period: checks.Period) -> float:
    """The baseline: one GROUP BY scan of the unit's readings in the period (the second of two runs, warm)."""
    query = (
        "SELECT r.meter_id, count(*) FROM meter_readings r JOIN meters m ON m.id = r.meter_id "
        "WHERE m.organisation_id = %s AND r.at >= %s AND r.at < %s GROUP BY r.meter_id"
    )
    with psycopg.connect(dsn(url)) as conn, conn.cursor() as cur:
        elapsed = 0.0
        for _ in range(2):
            start = time.perf_counter()
            cur.execute(query, (org_id, period.since, period.until))
            cur.fetchall()
            elapsed = time.perf_counter() - start
    return elapsed


def evidence_run(org_id: int, period: checks.Period) -> list[Any]:
    """What a snapshot computes: load, every check, the pictures' figures (nothing stored)."""
    with db.transaction() as session:
        evidence = checks.load(session, org_id, period)
    results = checks.run(evidence, rules())
    figures.figures(evidence, rules())
    return results


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.meters", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=183)
    parser.add_argument("--interval", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}")
    with database(args.database_url) as url, tempfile.TemporaryDirectory(prefix="bench-meters-") as folder:
        db.configure(url)
        audit.configure(from_environment()["AUDIT_KEYS"])
        migrate.upgrade(url)
        with db.transaction() as session:
            server = session.execute(text("SHOW server_version")).scalar_one()
            org = Organisation(uscc="91310000MA1FL0BEN1", name="基准测试单位", kind="enterprise", district="闵行区")
            session.add(org)
            session.flush()
            org_id = org.id
        print(f"PostgreSQL {server}")
        end = dt.date(2026, 6, 30)
        start = end - dt.timedelta(days=args.days - 1)
        made_at = time.perf_counter()
        made = simulate.simulate(Path(folder), start, end, args.meters, args.interval, seed=7, gas=False)
        size = made.readings.stat().st_size
        print(
            f"file: {made.readings_count:,} readings of {made.meters:,} meters, {size / 2**20:,.0f} MiB "
            f"(written in {time.perf_counter() - made_at:.0f} s)"
        )
        rows, _ = registry.read_registry(made.registry.open(encoding="utf-8"))
        with db.transaction() as session:
            registry.register(session, SYSTEM, session.get(Organisation, org_id), rows)  # type: ignore[arg-type]
            for (tier, energy), count in made.required.items():
                registry.require(session, SYSTEM, session.get(Organisation, org_id), tier, energy, count)  # type: ignore[arg-type]

        bare = bare_copy(url, made.readings)
        print(f"\nbaseline: bare COPY into an unindexed table: {bare:.1f} s ({made.readings_count / bare:,.0f} rows/s)")

        def ingest() -> Any:
            with made.readings.open("rb") as stream:
                return bulk.load_file(SYSTEM, org_id, stream, made.readings.name)

        ours, result, memory = timed(ingest)
        grew = mib(memory["peak"] - memory["before"])
        print(
            f"meters import (COPY, check, store): {ours:.1f} s ({result.inserted / ours:,.0f} rows/s), "
            f"{result.inserted:,} stored, {result.refused_count} refused; peak memory +{grew}"
        )
        print(f"  ingestion rate ÷ bare COPY = {bare / ours:.2f}  (goal ≥ 0.5)")
        with psycopg.connect(dsn(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE meter_readings")
        again, result, memory = timed(ingest)
        print(
            f"the same file again: {again:.1f} s, {result.inserted:,} stored, {result.unchanged:,} already there; "
            f"peak memory +{mib(memory['peak'] - memory['before'])}"
        )

        period = checks.Period(start, end)
        scan = count_scan(url, org_id, period)
        print(f"\nbaseline: SELECT meter_id, count(*) … GROUP BY meter_id over the period: {scan:.2f} s")
        run, results, memory = timed(lambda: evidence_run(org_id, period))
        grew = mib(memory["peak"] - memory["before"])
        print(f"full evidence run ({len(results)} checks and the figures): {run:.1f} s; peak memory +{grew}")
        print(f"  evidence run ÷ count scan = {run / scan:.1f}  (goal ≤ 3)")
        print("  results: " + ", ".join(f"{r.check}={r.value}" for r in results))
        db.engine.dispose()  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
