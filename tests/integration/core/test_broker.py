"""The outbox through a real broker: relay → Redis/RabbitMQ → an in-thread Celery worker → notifications.

Skipped unless CELERY_BROKER_URL names a broker; with REQUIRE_BROKER=1 (CI) a missing or unreachable
broker fails the test instead.
"""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select

from notifications.models import Notification
from tests import factories
from workflow import outbox
from workflow.db import db
from workflow.engine import fire
from workflow.models import OutboxMessage

pytestmark = pytest.mark.broker

WAIT_SECONDS = 20


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
