"""The deadline-day load, end to end: seed, serve with gunicorn, drive with locust, print the figures.

    python -m bench.load.run [--apps 10000] [--users 230] [--duration 120s] [--workers N] [--threads T]

1. `bench.load.seed` (reused when the database already holds it) on PostgreSQL (`--database-url`, default the
   database emc_load on 127.0.0.1).
2. gunicorn serving `bench.load.wsgi:app` on 127.0.0.1 and a free port; blobs in a local folder under `--workdir`.
3. locust, headless: 200 applicants and 30 reviewers (`--users` split 200:30) with think time; the statistics are
   reset once every user has logged in, so the figures are the steady state of `--duration`.
4. The throughput pair: the detail API and `/bench/bare` in turn (`--pair-rounds` each, alternating so machine noise
   hits both), no think time; requests per second of each and the server's CPU per request.
5. p50/p95/p99/errors per endpoint, the goals, the ratio; gunicorn stopped, this run's uploaded blobs removed.

Not a test: it prints figures and exits 0 (1 if the server would not start). Tasks go to a Redis queue that no
worker reads (`--broker`, db 6 by default; emptied at the end), as in production where Celery workers consume them
elsewhere; `--broker none` runs them in the request instead.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from bench.load import seed

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
VENV_BIN = Path(sys.executable).parent
GOALS_P95_MS = {"/applications [list page]": 300, "/applications/[id] [detail page]": 300, "/desk [queue page]": 300}
GOAL_RATIO = 0.3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reachable(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/bench/bare", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer")


def server_cpu(master: int) -> float:
    """CPU seconds (user + system) of the gunicorn master and its workers so far."""
    total = 0.0
    try:
        root = psutil.Process(master)
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        str(VENV_BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "120",
        # Longer than a user's think time, as a proxy in front would keep them: no close racing a request.
        "--keep-alive",
        "30",
        "--error-logfile",
        str(log),
        "bench.load.wsgi:app",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)


def locust(
    env: dict[str, str],
    host: str,
    users: int,
    rate: float,
    seconds: float,
    classes: list[str],
    csv_prefix: Path,
    reset: bool,
) -> tuple[list[dict[str, str]], float]:
    """One headless locust run; its per-endpoint rows from the CSV and the seconds it measured."""
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "-u",
        str(users),
        "-r",
        str(rate),
        "-t",
        f"{int(seconds)}s",
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "30",
        *(["--reset-stats"] if reset else []),
        *classes,
    ]
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode not in (0, 1):  # 1: some requests failed (reported from the CSV)
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise RuntimeError(f"locust exited with {done.returncode}")
    with Path(f"{csv_prefix}_stats.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    failures = Path(f"{csv_prefix}_failures.csv")
    if failures.exists():
        for row in csv.DictReader(failures.open(newline="")):
            print(f"    failure ×{row['Occurrences']}: {row['Method']} {row['Name']}: {row['Error'][:160]}")
    return rows, elapsed


def table(rows: list[dict[str, str]]) -> list[str]:
    lines = [f"  {'endpoint':<58} {'requests':>8} {'errors':>6} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6}  goal"]
    for row in rows:
        name = row["Name"]
        goal = GOALS_P95_MS.get(name)
        p95 = float(row["95%"] or 0)
        verdict = "" if goal is None or name == "Aggregated" else ("met" if p95 < goal else "MISSED") + f" (<{goal})"
        lines.append(
            f"  {(row['Type'] + ' ' + name).strip():<58} {row['Request Count']:>8} {row['Failure Count']:>6} "
            f"{float(row['Requests/s']):>6.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}  {verdict}"
        )
    return lines


def throughput_pair(
    env: dict[str, str], host: str, master: int, users: int, seconds: float, rounds: int, out: Path
) -> dict[str, Any]:
    """Requests per second (and server CPU ms per request) of the detail API and the bare route, alternating."""
    pair_env = {**env, "LOAD_PAIR": "1"}
    found: dict[str, list[tuple[float, float, int]]] = {"DetailApi": [], "Bare": []}
    for r in range(rounds):
        for cls in ("DetailApi", "Bare"):
            cpu = server_cpu(master)
            rows, _elapsed = locust(pair_env, host, users, users, seconds, [cls], out / f"pair_{cls}_{r}", reset=True)
            cpu_used = server_cpu(master) - cpu
            names = ("/bench/bare", "/api/v1/applications/[id] [detail API]")
            target = next((row for row in rows if row["Name"] in names), None)
            if target is None:  # nothing reached the endpoint: every user failed to start
                found[cls].append((0.0, 0.0, 1))
                continue
            count, fails = int(target["Request Count"]), int(target["Failure Count"])
            found[cls].append((float(target["Requests/s"]), 1000 * cpu_used / max(count, 1), fails))
    rps = {cls: statistics.median(v[0] for v in runs) for cls, runs in found.items()}
    cpu_ms = {cls: statistics.median(v[1] for v in runs) for cls, runs in found.items()}
    return {
        "rounds": found,
        "rps": rps,
        "cpu_ms": cpu_ms,
        "ratio": rps["DetailApi"] / rps["Bare"] if rps["Bare"] else 0.0,
        "cpu_ratio": cpu_ms["Bare"] / cpu_ms["DetailApi"] if cpu_ms["DetailApi"] else 0.0,
        "errors": sum(v[2] for runs in found.values() for v in runs),
    }


def service_times(host: str, master: int, n: int = 20) -> tuple[list[tuple[str, float, float]], dict[str, str]]:
    """One request at a time (nothing queues): each endpoint's median wall time and the server's CPU per request.
    CPU time hardly depends on what else the machine runs, so it says what the app itself costs."""
    import re

    import requests

    def logged_in(username: str) -> tuple[requests.Session, dict[str, str]]:
        session = requests.Session()
        page = session.get(f"{host}/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token is not None
        session.post(
            f"{host}/login",
            data={"csrf_token": token.group(1), "username": username, "password": seed.PASSWORD},
            allow_redirects=False,
        )
        answer = session.post(f"{host}/api/v1/auth/token", json={"username": username, "password": seed.PASSWORD})
        return session, {"Authorization": f"Bearer {answer.json()['token']}"}

    applicant, applicant_api = logged_in("load_applicant_000")
    own = applicant.get(f"{host}/api/v1/applications?per_page=5", headers=applicant_api).json()["items"][0]["id"]
    reviewer, reviewer_api = logged_in("load_district_00")
    queued = re.findall(r'href="/applications/(\d+)"', reviewer.get(f"{host}/desk").text)[0]
    plan = [
        ("/applications [list page]", applicant, "/applications", {}),
        ("/applications/[id] [detail page] (applicant)", applicant, f"/applications/{own}", {}),
        ("/desk [queue page]", reviewer, "/desk", {}),
        ("/applications/[id] [detail page] (reviewer)", reviewer, f"/applications/{queued}", {}),
        ("/api/v1/applications/[id] [detail API]", reviewer, f"/api/v1/applications/{queued}", reviewer_api),
        ("/bench/bare", reviewer, "/bench/bare", {}),
    ]
    out = []
    for name, session, path, headers in plan:
        for _ in range(2):  # warm: every worker's first request of a kind builds caches
            session.get(host + path, headers=headers)
        walls, cpu = [], server_cpu(master)
        for _ in range(n):
            started = time.perf_counter()
            answer = session.get(host + path, headers=headers, allow_redirects=False)
            walls.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise RuntimeError(f"{path} answered {answer.status_code}")
        out.append((name, 1000 * statistics.median(walls), 1000 * (server_cpu(master) - cpu) / n))
    ids = re.findall(r'href="/applications/(\d+)"', reviewer.get(f"{host}/desk").text)
    handover = {"LOAD_PAIR_TOKEN": reviewer_api["Authorization"].split()[1], "LOAD_PAIR_IDS": ",".join(ids)}
    return out, handover


def remove_new_blobs(root: Path, since: float) -> int:
    """This run's uploads (20 MB each) are not kept: blob files written after `since`."""
    removed = 0
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_mtime >= since:
            path.unlink()
            removed += 1
    return removed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", seed.DEFAULT_URL))
    parser.add_argument("--apps", type=int, default=10_000)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--users", type=int, default=230, help="locust users: applicants and reviewers, 200:30")
    parser.add_argument("--duration", default="120s", help="the measured steady state, after every user logged in")
    # A login verifies argon2 twice (page and token), ~0.2 CPU-s each: 2 users a second is ~0.8 cores of logins.
    parser.add_argument("--spawn-rate", type=float, default=2)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pair-users", type=int, default=16)
    parser.add_argument("--pair-duration", default="15s")
    parser.add_argument("--pair-rounds", type=int, default=2)
    parser.add_argument("--think", default="5,15", help="seconds between one user's actions (min,max)")
    parser.add_argument("--upload-mb", type=float, default=20)
    parser.add_argument("--broker", default=os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/6"))
    parser.add_argument("--workdir", type=Path, default=seed.DEFAULT_WORKDIR)
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    args = parser.parse_args()
    duration = float(args.duration.rstrip("s"))
    pair_seconds = float(args.pair_duration.rstrip("s"))
    load_at_start = os.getloadavg()
    print(f"EMC deadline-day load: {args.apps:,} applications, {args.users} users, {args.duration} steady state")
    print(
        f"  machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, {psutil.virtual_memory().total / 1024**3:.0f} GiB; load average at start "
        f"{load_at_start[0]:.2f} {load_at_start[1]:.2f} {load_at_start[2]:.2f}"
    )
    env = seed.prepare(args.database_url, args.apps, args.applicants, args.workdir, args.fresh)
    reviewers = 17 + seed.MUNICIPAL + seed.EXPERTS
    applicants = round(args.users * args.applicants / (args.applicants + reviewers))
    server_env = {
        **os.environ,
        **env,
        "LOGIN_RATE_LIMIT": "100000 per minute",  # one address plays 230 people
        "LOAD_APPLICANTS": str(args.applicants),
        "LOAD_THINK": args.think,
        "LOAD_UPLOAD_MB": str(args.upload_mb),
        "LOAD_MUNICIPAL": str(seed.MUNICIPAL),
        "LOAD_EXPERTS": str(seed.EXPERTS),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    server_env.pop("CELERY_BROKER_URL", None)
    broker = args.broker if args.broker != "none" and reachable(args.broker) else None
    if broker:
        server_env["CELERY_BROKER_URL"] = broker
    out = args.workdir / "results" / time.strftime("%Y%m%dT%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    started_at = time.time()
    server = start_gunicorn(server_env, port, args.workers, args.threads, out / "gunicorn.log")
    print(
        f"  server: gunicorn {args.workers} gthread workers × {args.threads} threads on {host}; PostgreSQL "
        f"{seed.make_url(args.database_url).database}; blobs in a local folder ({env['STORAGE_URL']}); tasks "
        f"{'queued to ' + broker + ' (no worker)' if broker else 'run in the request (no broker)'}"
    )
    try:
        wait_for(host, server)
        cpu0 = server_cpu(server.pid)
        ramp = args.users / args.spawn_rate
        # The classes' weights (200:30) split the users; --reset-stats starts the figures once all are logged in.
        rows, elapsed = locust(
            server_env,
            host,
            args.users,
            args.spawn_rate,
            ramp + duration,
            ["Applicant", "Reviewer"],
            out / "scenario",
            reset=True,
        )
        scenario_cpu = server_cpu(server.pid) - cpu0
        load_after = os.getloadavg()
        print(
            f"\n  scenario ({applicants} applicants, {args.users - applicants} reviewers, think {args.think} s; "
            f"statistics from the moment all had logged in; times in ms):"
        )
        print("\n".join(table(rows)))
        print(
            f"  server CPU during the scenario: {scenario_cpu:.0f} s over {elapsed:.0f} s "
            f"({scenario_cpu / elapsed:.2f} cores); load average after {load_after[0]:.2f}"
        )
        print("\n  one request at a time (20 each after 2 to warm; medians):")
        timed, handover = service_times(host, server.pid)
        for name, wall_ms, cpu_ms in timed:
            print(f"    {name:<50} {wall_ms:>7.1f} ms wall, {cpu_ms:>6.1f} ms server CPU per request")
        pair = throughput_pair(
            {**server_env, **handover}, host, server.pid, args.pair_users, pair_seconds, args.pair_rounds, out
        )
        print(
            f"\n  throughput pair ({args.pair_users} users, no think time, {args.pair_rounds} × {args.pair_duration} "
            f"each, alternating; medians):"
        )
        for cls, label in (("DetailApi", "GET /api/v1/applications/[id]"), ("Bare", "GET /bench/bare")):
            each = ", ".join(f"{r:.0f}" for r, _c, _f in pair["rounds"][cls])
            print(
                f"    {label:<32} {pair['rps'][cls]:>7.0f} req/s (rounds {each}); server CPU "
                f"{pair['cpu_ms'][cls]:.2f} ms/request"
            )
        verdict = "met" if pair["ratio"] >= GOAL_RATIO else "MISSED"
        print(
            f"    ratio detail API / bare: {pair['ratio']:.2f} (goal ≥ {GOAL_RATIO}: {verdict}); by server CPU per "
            f"request {pair['cpu_ratio']:.2f}; errors {pair['errors']}"
        )
        print(f"  CSV and logs: {out}; load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        removed = remove_new_blobs(args.workdir / "blobs", started_at)
        shutil.rmtree(args.workdir / "instance" / "uploads", ignore_errors=True)
        if broker:
            import redis

            redis.Redis.from_url(broker).flushdb()
        print(f"  stopped gunicorn; removed {removed} uploaded blobs of this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
