"""Delivery that keeps its promise through a real broker (issue 14 item 5), on the Redis of CI:

- a worker process killed with SIGKILL in the middle of sending a mail (the SMTP server holding its DATA), then
  started again, delivers each message exactly once;
- a broker outage delays delivery but loses nothing.

The worker is a real `manage.py worker` process on the test's database and its own queue; mail goes to the test's
SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select

from notifications import delivery
from notifications.models import Delivery
from tests import factories
from tests.support.worker import Worker
from tests.support.worker import wait_for as _wait
from workflow import engine_pg, outbox
from workflow.db import db
from workflow.engine import fire
from workflow.models import OutboxMessage

pytestmark = pytest.mark.broker
LEASE = 3  # seconds: the worker's DELIVERY_LEASE_SECONDS, so a killed claim frees quickly


def _deliveries() -> list[Delivery]:
    with db.transaction() as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.channel == "email").order_by(Delivery.id)))
        session.expunge_all()
        return rows


@pytest.fixture
def worker(app, broker_celery, smtp_server, database_url, tmp_path) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_celery.conf.broker_url,
        "CELERY_QUEUE": broker_celery.conf.task_default_queue,
        "SMTP_URL": smtp_server.url(),
        "MAIL_FROM": "noreply@emc.test",
        "DELIVERY_LEASE_SECONDS": str(LEASE),
        "STORAGE_URL": app.config["STORAGE_URL"],
    }
    process = Worker(env, tmp_path / "worker.log")
    try:
        yield process
    finally:
        process.stop()


def test_a_worker_killed_mid_send_and_started_again_delivers_each_mail_once(
    cast, committed_db, via_broker, smtp_server, worker
):
    smtp_server.clear()
    smtp_server.stall_seconds = 60  # the first mail's DATA is held: its sender is caught mid-send
    worker.start()
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)  # the applicant and the district reviewer are to be told
    assert outbox.relay() >= 1  # the notification task to the broker; the worker takes it from there
    _wait(smtp_server.stalled.is_set, 60, "the worker to start sending")
    worker.kill()  # SIGKILL, mid-send: no cleanup, no acknowledgement
    caught = [d for d in _deliveries() if d.status == "sending"]
    assert len(caught) == 1, [(d.address, d.status) for d in _deliveries()]

    worker.start()  # the same worker again
    time.sleep(LEASE + 1)  # the dead worker's claim runs out
    with db.transaction() as session:
        assert delivery.sweep(session) >= 1  # what the beat does every 30 s
    outbox.relay()
    expected = sorted([cast.applicant.email, cast.district_reviewer.email])
    _wait(lambda: len(smtp_server.messages()) >= 2, 60, "both mails")
    time.sleep(2)  # anything sent twice would have arrived by now
    assert sorted(m.envelope_to[0] for m in smtp_server.messages()) == expected  # each exactly once
    assert {d.status for d in _deliveries()} == {"sent"}
    assert len({m.message_id for m in smtp_server.messages()}) == 2


def test_a_broker_outage_delays_delivery_but_loses_nothing(
    app, cast, committed_db, broker_celery, smtp_server, mailbox
):
    down = "redis://127.0.0.1:1/0"  # nothing listens there: the broker is away
    saved = (outbox._sender, outbox._kicker)

    def send_to(url: str):  # type: ignore[no-untyped-def]
        def send(task_name: str, kwargs: dict) -> None:  # type: ignore[type-arg]
            with broker_celery.connection_for_write(url) as connection:
                broker_celery.send_task(task_name, kwargs=kwargs, connection=connection, retry=False)

        return send

    outbox.configure(send_to(down), None)
    try:
        app_id = factories.new_application(cast)
        fire(app_id, "submit", cast.applicant)
        assert outbox.relay() == 0  # the broker is down: nothing sent, nothing lost
        with db.transaction() as session:
            waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.dispatched_at.is_(None))).all()
            assert waiting and all(row.last_error for row in waiting)
            session.execute(OutboxMessage.__table__.update().values(claimed_until=None))  # the lease, as if expired
        assert mailbox.messages() == []
        outbox.configure(send_to(broker_celery.conf.broker_url), None)  # the broker is back
        with start_worker(broker_celery, perform_ping_check=False, shutdown_timeout=30):
            _wait(lambda: outbox.relay() == 0 and not _undispatched(), 60, "the outbox to drain")
            _wait(lambda: len(mailbox.messages()) >= 2, 60, "both mails")
        assert sorted(m.envelope_to[0] for m in mailbox.messages()) == sorted(
            [cast.applicant.email, cast.district_reviewer.email]
        )
    finally:
        outbox.configure(*saved)


def _undispatched() -> int:
    with db.transaction() as session:
        return len(session.scalars(select(OutboxMessage.id).where(OutboxMessage.dispatched_at.is_(None))).all())


def test_a_rolled_back_command_sends_nothing_through_the_broker(
    app, cast, committed_db, broker_celery, via_broker, mailbox, monkeypatch
):
    app_id = factories.new_application(cast)

    def then_fail(written):  # type: ignore[no-untyped-def]
        def write(*args, **kwargs):  # type: ignore[no-untyped-def]
            written(*args, **kwargs)  # the command's outbox rows are in its transaction ...
            raise RuntimeError("... and then it fails before committing")

        return write

    # The plain path publishes through outbox.publish; PostgreSQL's one statement writes the rows itself.
    with monkeypatch.context() as patched:
        patched.setattr(outbox, "publish", then_fail(outbox.publish))
        patched.setattr(engine_pg, "write", then_fail(engine_pg.write))
        with pytest.raises(RuntimeError):
            fire(app_id, "submit", cast.applicant)
    with start_worker(broker_celery, perform_ping_check=False, shutdown_timeout=30):
        assert outbox.relay() == 0  # nothing was left to send
        time.sleep(2)
    assert mailbox.messages() == [] and _deliveries() == []
    assert factories.state_of(app_id)[0] == "draft"
