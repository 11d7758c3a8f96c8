"""The deadline-day load scenario (bench/load) still runs: every step of it, against a real server, without a failure.

Seed, gunicorn and locust each run as a subprocess (locust monkey-patches with gevent: never imported here), on a
database of their own (SQLite file, or a scratch PostgreSQL database), so the test's rolled-back transaction is not
involved. Each locust user walks every task of its class once (LOAD_WALK_THROUGH) and the run ends when all have.
"""

from __future__ import annotations

import contextlib
import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from web.core import migrate

PROJECT_ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
# Every request the scenario makes: a name missing here means a step silently stopped running.
EXPECTED = {
    "/login [page]",
    "/login [post]",
    "/api/v1/auth/token",
    "/api/v1/applications",
    "/applications [list page]",
    "/applications/[id] [detail page]",
    "/applications/[id]/form/[section] [form page]",
    "/applications/[id]/form/[section] [save]",
    "/api/v1/applications/[id]/attachments [20 MB upload]",
    "/desk [queue page]",
    "/api/v1/applications/[id] [detail API]",
}


@contextlib.contextmanager
def load_database(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        with migrate.scratch_postgres(server, prefix="emc_load_smoke") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'load.sqlite3'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def scenario_env(url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "RATELIMIT_STORAGE_URL")}
    return env | {
        "DATABASE_URL": url,
        "EMC_INSTANCE": str(workdir / "instance"),
        "STORAGE_URL": f"file://{workdir / 'blobs'}",
        "SECRET_KEY": "load-smoke-secret",
        "AUDIT_KEY": "load-smoke-audit-key",
        "LOGIN_RATE_LIMIT": "100000 per minute",  # one address plays every user
        "PYTHONPATH": str(PROJECT_ROOT),
        "LOAD_APPLICANTS": "1",
        "LOAD_UPLOAD_MB": "1",
        "LOAD_THINK": "0.2,0.5",
        "LOAD_WALK_THROUGH": "1",
    }


def test_the_load_scenario_runs_every_step_without_a_failure(tmp_path: Path) -> None:
    with load_database(tmp_path) as url:
        env = scenario_env(url, tmp_path)
        subprocess.run(
            [
                str(BIN / "python"),
                "-m",
                "bench.load.seed",
                "--database-url",
                url,
                "--apps",
                "10",
                "--applicants",
                "1",
                "--workdir",
                str(tmp_path),
            ],
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "bench.load.wsgi:app",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until_serving(host + "/bench/bare", server)
            # One applicant, one reviewer; the walk-through ends the run (60 s is a cap).
            locust = subprocess.run(
                [
                    str(BIN / "locust"),
                    "-f",
                    "bench/load/locustfile.py",
                    "--headless",
                    "--host",
                    host,
                    "-u",
                    "2",
                    "-r",
                    "2",
                    "-t",
                    "60s",
                    "--csv",
                    str(tmp_path / "smoke"),
                    "--only-summary",
                    "Applicant",
                    "Reviewer",
                ],
                env=env,
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            server.terminate()
            server.wait(30)
    with (tmp_path / "smoke_stats.csv").open(newline="") as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    with (tmp_path / "smoke_failures.csv").open(newline="") as fh:
        failures = [f"{row['Method']} {row['Name']}: {row['Error']}" for row in csv.DictReader(fh)]
    assert failures == [], failures
    assert locust.returncode == 0, locust.stderr[-2000:]
    assert set(stats) >= EXPECTED, f"steps that did not run: {EXPECTED - set(stats)}; {locust.stderr[-1500:]}"
    assert stats["Aggregated"]["Failure Count"] == "0"
