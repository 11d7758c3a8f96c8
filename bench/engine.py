"""Benchmark: one fire() against the same SQL issued raw, and the memory of 10,000 live applications.

    python -m bench.engine [--database-url URL] [--fires N] [--rounds R] [--apps N] [--live 10000] [--profile N]

A URL without a database name (the default) gets a scratch database, created here and dropped at the end; a URL
that names a database is used as it is (migrated, never dropped). Not a test: it prints figures and exits 0, or 1
if a sanity check fails (an application not where the engine should have put it, more machines than versions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

import psycopg

from bench.engine_commands import measure_commands
from bench.engine_memory import probe, run_probe, shared_machine_kib
from bench.engine_raw import RAWSAME_TRIPS
from bench.engine_setup import CYCLE, DEFAULT_SERVER, database, libpq_dsn, prepare
from workflow.db import db

TRIGGERS = [trigger for trigger, _dest in CYCLE.values()]  # return_for_correction, then resubmit

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


def report_trips(trigger: str, trips: list[str], same: list[str]) -> None:
    """fire()'s round trips for one command, each marked where rawsame sends something else; drift warned."""
    statements = sum(1 for s in trips if s not in ("BEGIN", "COMMIT") and not s.startswith("SELECT 1 ("))
    ping = ", the pool's pre-ping" if any(s.startswith("SELECT 1 (") for s in trips) else ""
    agree = "the same statements" if trips == same else "OTHER statements (marked ≠)"
    print(
        f"  round trips of one fire() on {trigger}: {len(trips)} = BEGIN, COMMIT{ping} and {statements} SQL "
        f"statements; rawsame sends {len(same)}, {agree}"
    )
    if len(trips) != RAWSAME_TRIPS[trigger]:
        print(
            f"  !! fire() now makes {len(trips)} round trips on {trigger}: the rawsame column still mirrors the "
            f"{RAWSAME_TRIPS[trigger]} it made"
        )
    for i, statement in enumerate(trips, 1):
        mark = "  " if i <= len(same) and same[i - 1] == statement else "≠ "
        print(f"    {mark}{i:>2}. {statement[:106]}")
    for i, statement in enumerate(same[len(trips) :], len(trips) + 1):
        print(f"    ≠ {i:>2}. rawsame only: {statement[:92]}")


def report_commands(m: dict[str, Any], rounds: int, n: int) -> None:
    med = {name: statistics.median(lat) for name, lat in m["every"].items()}
    cpu = {name: statistics.median(values) for name, values in m["cpu"].items()}
    ratios = [f / r for f, r in zip(m["medians"]["fire"], m["medians"]["raw6"], strict=True)]
    fire_trips, same_trips = m["trips"]["fire"], m["trips"]["rawsame"]
    print(f"\n(a, b) one command; {rounds} interleaved rounds x {n} per method; per-op medians")
    print("  return_for_correction (district reviewer, comment) / resubmit (applicant), with expected_version")
    print("  outbox: no sender and no kicker; the rows are left pending (the relay is not timed)")
    head = f"{'round trips':>12}{'median µs':>11}{'round medians µs':>19}{'client CPU µs':>15}{'× raw6':>8}"
    print(f"  {'method':<33}{head}")
    rows = (
        ("raw6", "raw psycopg: the issue's SQL", "6"),
        ("rawsame", "raw psycopg: fire()'s own SQL", "/".join(str(len(same_trips[t])) for t in TRIGGERS)),
        ("fire", "workflow.engine.fire()", "/".join(str(len(fire_trips[t])) for t in TRIGGERS)),
    )
    for name, title, count in rows:
        spread = f"{min(m['medians'][name]):,.0f}–{max(m['medians'][name]):,.0f}"
        ratio = med[name] / med["raw6"]
        print(f"  {title:<33}{count:>12}{med[name]:>11,.0f}{spread:>19}{cpu[name]:>15,.0f}{ratio:>7.2f}×")
    print(f"  (round trips: {' / '.join(TRIGGERS)}; each method alternates the two)")
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
    more = statistics.mean(RAWSAME_TRIPS[t] for t in TRIGGERS) - 6
    each = " on a return, ".join(str(RAWSAME_TRIPS[t]) for t in TRIGGERS)
    print(
        f"  fire() {med['fire']:,.0f} µs = the issue's SQL {med['raw6']:,.0f} + {more:g} more round trips on average "
        f"({each} on a resubmission) and the effects' rows {med['rawsame'] - med['raw6']:,.0f} "
        f"+ ORM and Python {med['fire'] - med['rawsame']:,.0f}"
    )
    for trigger in TRIGGERS:
        report_trips(trigger, fire_trips[trigger], same_trips[trigger])
    print(
        "  rows written over each pool, fire() / rawsame: "
        + ", ".join(
            f"{table} {m['rows']['fire'][table]:,}/{m['rows']['rawsame'][table]:,}" for table in m["rows"]["fire"]
        )
    )
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
        print(f"!! applications not where fire() or rawsame should have left them: {commands['wrong'][:10]}")
    if commands["rows"]["fire"] != commands["rows"]["rawsame"]:
        ok = False
        print("!! rawsame did not write the rows fire() wrote for the same commands (counts above)")
    if live["machines"] > live["versions"]:
        ok = False
        print("!! more machines than definition versions: the shared-machine design is broken")
    print(f"\ndone in {time.perf_counter() - started:.0f} s; load average {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
