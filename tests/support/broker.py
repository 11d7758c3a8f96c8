"""A real Celery broker for the tests that need one: its URL (skipped, or failed under REQUIRE_BROKER=1, when
there is none), a Celery app like the test app's sending to it on a queue of its own, and the outbox pointed at it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, Task
from kombu import Connection

from workflow import outbox


def broker_url() -> str:
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
    url = broker_url()
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
