"""The outbox through a real broker: relay → Redis/RabbitMQ → an in-thread Celery worker → notifications.

Skipped unless CELERY_BROKER_URL names a broker; with REQUIRE_BROKER=1 (CI) a missing or unreachable
broker fails the test instead.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, Task
from celery.contrib.testing.worker import start_worker
from kombu import Connection
from sqlalchemy import select

from notifications.models import Notification
from tests import factories
from workflow import outbox
from workflow.db import db
from workflow.engine import fire
from workflow.models import OutboxMessage

pytestmark = pytest.mark.broker

WAIT_SECONDS = 20


def _broker_url() -> str:
    """The broker to use, or skip (fail under REQUIRE_BROKER=1) when there is none to reach."""
    required = os.environ.get("REQUIRE_BROKER") == "1"
    url = os.environ.get("CELERY_BROKER_URL", "")
    problem = None
    if not url:
        problem = "CELERY_BROKER_URL is not set"
    else:
        try:
            with Connection(url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:
            problem = f"broker {url} is not reachable: {exc}"
    if problem is None:
        return url
    if required:
        pytest.fail(f"REQUIRE_BROKER=1 but {problem}")
    pytest.skip(problem)


@pytest.fixture
def broker_celery(app) -> Iterator[Celery]:  # type: ignore[no-untyped-def]
    """A Celery app like the test app's, but sending to the real broker on a queue of its own."""
    url = _broker_url()
    eager = app.extensions["celery"]

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    # A queue of our own: parallel runs on the same broker must not take each other's tasks.
    queue = f"emc-test-{uuid.uuid4().hex[:10]}"
    celery = Celery(f"{app.name}-broker-test", task_cls=FlaskTask)
    celery.config_from_object(
        {**app.config["CELERY"], "broker_url": url, "task_always_eager": False, "task_default_queue": queue}
    )
    try:
        yield celery
    finally:
        with celery.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        # start_worker makes its app the current and default one; give the eager app its place back.
        eager.set_current()
        eager.set_default()


@pytest.fixture
def via_broker(broker_celery: Celery) -> Iterator[None]:
    """Point the outbox at the broker for this test; restore the eager wiring afterwards."""
    saved = (outbox._sender, outbox._kicker)

    def send(task_name: str, kwargs: dict[str, Any]) -> None:
        broker_celery.send_task(task_name, kwargs=kwargs)

    outbox.configure(send, None)  # no kicker: the test runs the relay itself, after the commit
    try:
        yield
    finally:
        outbox.configure(*saved)


def _notifications(event_seq: int) -> dict[int, str]:
    with db.transaction() as session:
        return {
            n.user_id: n.kind for n in session.scalars(select(Notification).where(Notification.event_seq == event_seq))
        }


def test_relay_through_a_real_broker_reaches_the_worker(cast, committed_db, broker_celery, via_broker):
    """A committed transition's outbox row goes through the broker; the worker writes the notifications."""
    app_id = factories.new_application(cast)
    result = fire(app_id, "submit", cast.applicant)
    assert _notifications(result.event_seq) == {}  # nothing is sent before the relay runs

    with start_worker(broker_celery, perform_ping_check=False, shutdown_timeout=30):
        assert outbox.relay() >= 1
        deadline = time.monotonic() + WAIT_SECONDS
        notified = _notifications(result.event_seq)
        while cast.district_reviewer.id not in notified and time.monotonic() < deadline:
            time.sleep(0.2)
            notified = _notifications(result.event_seq)

    assert notified.get(cast.district_reviewer.id) == "your_turn", f"no notification within {WAIT_SECONDS} s"
    assert cast.other_district_reviewer.id not in notified
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.application_id == app_id)).all()
        assert rows and all(r.dispatched_at is not None for r in rows)
