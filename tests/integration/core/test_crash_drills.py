"""Crash drills (issue 16 item 5): nothing lost and nothing doubled when a process dies at the worst moment.

- A worker killed with SIGKILL in the middle of building a binder (a task that writes a row and a blob), then started
  again: the broker hands the unacknowledged task out again (acks_late), and exactly one binder is built; the task
  delivered once more afterwards builds nothing (it finds its build done).
- The app killed between the commit of a transition and the relay of its outbox rows: the next relay sends each row
  exactly once, and a relay after it sends nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from applications import binder_builds
from applications.models import Attachment, BinderBuild
from notifications.models import Notification
from tests import factories
from tests.support.worker import ROOT, Worker, keys_env, wait_for
from web.archive.tasks import BINDER_TASK
from web.core.extensions import blob_store
from workflow import outbox
from workflow.db import db
from workflow.models import OutboxMessage

VISIBILITY = 3  # seconds: the worker's CELERY_VISIBILITY_TIMEOUT, so a killed worker's task comes back quickly


@pytest.fixture
def worker(app, broker_celery, database_url, tmp_path) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        **keys_env(app),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_celery.conf.broker_url,
        "CELERY_QUEUE": broker_celery.conf.task_default_queue,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "STORAGE_URL": app.config["STORAGE_URL"],
    }
    # The production pool (prefork: the task in a child, the parent acknowledging meanwhile; under --pool=solo an
    # early acknowledgement waits for the task to end, so the drill could not tell acks_late from its absence).
    # Alone on its queue: no neighbours to look for or gossip with (a second less to start).
    extra = ("--pool=prefork", "--concurrency=1", "--without-mingle", "--without-gossip")
    process = Worker(env, tmp_path / "worker.log", extra)
    try:
        yield process
    finally:
        process.stop()


def _build(build_id: int) -> BinderBuild:
    with db.transaction() as session:
        row = session.get(BinderBuild, build_id)
        assert row is not None
        session.expunge(row)
        return row


def _binders() -> set[str]:
    return {key for key in blob_store(factories.flask_app()).iter_keys() if key.startswith("binders/")}


def _reader_waiting(fifo: Path) -> int | None:
    """A write end of the FIFO if a reader holds it open now (the worker, mid-build), else None."""
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return None


@pytest.mark.broker
def test_a_worker_killed_mid_build_and_started_again_builds_the_binder_exactly_once(
    app, cast, committed_db, broker_celery, via_broker, worker, tmp_path
):
    app_id = factories.new_application(cast)
    factories.upload(app, cast, app_id, "other", data=factories.SAMPLE_PDF + f"% {tmp_path.name}\n".encode())
    with db.transaction() as session:
        key = session.scalars(
            select(Attachment.blob_key).where(Attachment.application_id == app_id, Attachment.category == "other")
        ).one()
    # The attachment's bytes become a FIFO: the worker reading them blocks there, caught in the middle of the build.
    blob = Path(app.config["STORAGE_URL"].removeprefix("file://")) / key
    data = blob.read_bytes()
    blob.unlink()
    os.mkfifo(blob)
    before = _binders()
    build_id = binder_builds.request(cast.applicant, app_id)
    assert outbox.relay() >= 1  # the build task to the broker
    worker.start()
    try:
        held: list[int] = []
        wait_for(lambda: (fd := _reader_waiting(blob)) is not None and not held.append(fd), 20, "the worker to bind")
        assert _build(build_id).status == "building"
        worker.kill()  # SIGKILL mid-task: no acknowledgement, no cleanup
    finally:
        for fd in held:
            os.close(fd)
        blob.unlink()
        blob.write_bytes(data)
    assert _build(build_id).status == "building" and _binders() == before  # caught with nothing written

    worker.start()  # a new worker: the broker gives it the dead worker's task again
    wait_for(lambda: _build(build_id).status == "done", 30, "the build to be done")
    done = _build(build_id)
    assert _binders() - before == {done.blob_key}  # exactly one binder

    wait_for(lambda: _ran(worker) == 1, 10, "the worker to log the build")
    broker_celery.send_task(BINDER_TASK, kwargs={"build_id": build_id})  # delivered once more (at least once)
    wait_for(lambda: _ran(worker) == 2, 20, "the worker to run it again")
    again = _build(build_id)
    assert (again.status, again.blob_key, again.finished_at) == ("done", done.blob_key, done.finished_at)
    assert _binders() - before == {done.blob_key}  # nothing doubled
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(BinderBuild.application_id == app_id)) == 1


def _ran(worker: Worker) -> int:
    """How many binder tasks the worker finished, by its log (the killed one finished none)."""
    lines = worker.log.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if f"Task {BINDER_TASK}[" in line and " succeeded in " in line)


def _pending(app_id: int) -> list[tuple[int, str]]:
    with db.transaction() as session:
        return [
            (row.id, row.task)
            for row in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.application_id == app_id, OutboxMessage.dispatched_at.is_(None))
                .order_by(OutboxMessage.id)
            )
        ]


def test_the_app_killed_between_commit_and_relay_loses_nothing_and_the_relay_sends_each_row_once(
    app, cast, committed_db, database_url
):
    app_id = factories.new_application(cast)
    env = {**os.environ, **keys_env(app), "DATABASE_URL": database_url, "STORAGE_URL": app.config["STORAGE_URL"]}
    env.pop("CELERY_BROKER_URL", None)
    died = subprocess.run(
        [sys.executable, "-m", "tests.support.commit_then_die", str(app_id), "submit", str(cast.applicant.id)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert died.returncode == -9, died.stdout + died.stderr  # SIGKILL, right after the commit
    assert factories.state_of(app_id)[0] == "district_review"  # the transition committed
    waiting = _pending(app_id)
    assert waiting, "the outbox rows were lost with the process"
    with db.transaction() as session:
        told = session.scalar(select(func.count()).where(Notification.application_id == app_id))
    assert told == 0  # nothing was relayed before the process died

    sent: list[tuple[int, str]] = []
    saved = (outbox._sender, outbox._kicker)
    eager = outbox._sender
    assert eager is not None

    def record(task: str, kwargs: dict[str, Any]) -> None:
        sent.append((kwargs["outbox_id"], task))
        eager(task, kwargs)  # and run it, in-process, as the test app's Celery does

    outbox.configure(record, None)
    try:
        outbox.relay()  # what the beat's relay-outbox does every 30 s
        assert sorted(s for s in sent if s in waiting) == waiting  # each row the dead process left, once
        assert _pending(app_id) == []
        with db.transaction() as session:
            told = session.scalar(select(func.count()).where(Notification.application_id == app_id))
        assert told  # the notifications the transition owed were made
        while outbox.relay():  # the rows those tasks wrote in turn (deliveries), until nothing is left
            pass
        assert outbox.relay() == 0
        assert Counter(row for row, _task in sent).most_common(1)[0][1] == 1  # no row was sent twice
        with db.transaction() as session:
            assert session.scalar(select(func.count()).where(Notification.application_id == app_id)) == told
    finally:
        outbox.configure(*saved)
