"""Processes of their own for the drills: a real `manage.py worker` to kill (SIGKILL) mid-task, the keys such a
process needs, and a polling wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.2)


def keys_env(app: Any) -> dict[str, str]:
    """The test app's keys as environment variables: a process of its own (a worker, `manage.py restore`) gets them
    as an operator's secret store would give them, never from a backup."""
    config, field_keys = app.config, app.config["FIELD_ENCRYPTION_KEYS"]
    return {
        "AUDIT_KEY": config["AUDIT_KEYS"][0],
        "AUDIT_KEYS_PREVIOUS": ",".join(config["AUDIT_KEYS"][1:]),
        "ARCHIVE_SIGNING_KEY": config["ARCHIVE_SIGNING_KEY"],
        "FIELD_ENCRYPTION_KEYS": ",".join(field_keys) if isinstance(field_keys, list | tuple) else field_keys,
    }


class Worker:
    """`manage.py worker` in a process of its own (its own process group, so SIGKILL takes all of it)."""

    def __init__(self, env: dict[str, str], log: Path, extra: tuple[str, ...] = ()):
        self.env, self.log, self.extra = env, log, extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "worker",
                "--loglevel=INFO",
                "--pool=solo",
                "-n",
                "killme@%h",
                *self.extra,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
