"""Celery tasks for notifications; each is idempotent, so acks_late redelivery is harmless.

The shell configures where settings come from (`configure`): the channels and the public URL are configuration,
which this package does not read itself.
"""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from notifications import delivery, operations, reminders
from notifications.delivery import Settings
from workflow import outbox, registry
from workflow.db import db, utcnow
from workflow.models import AuditEvent
from workflow.workdays import today_in_shanghai

TASK = "notifications.notify_transition"
PEOPLE_TASK = "notifications.notify_people"
DELIVER_TASK = "notifications.deliver"
SWEEP_TASK = "notifications.sweep_deliveries"
DIGEST_TASK = "notifications.send_digests"
REMIND_TASK = "notifications.remind"

_settings: Callable[[], Settings] | None = None


def configure(provider: Callable[[], Settings] | None) -> None:
    global _settings
    _settings = provider


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError("notifications are not configured: the shell sets their settings (web.core.notices)")
    return _settings()


@shared_task(name=TASK, ignore_result=True, acks_late=True)
def notify_transition(application_id: int, event_seq: int, outbox_id: int | None = None) -> int:
    """An audited event's notifications and their deliveries, written together; the deliveries then go out."""
    channels = settings().channels
    with db.transaction() as session:
        made = operations.notify_transition(session, application_id, event_seq)
        delivery.plan(session, made, channels)
    outbox.kick()
    return len(made)


@shared_task(name=PEOPLE_TASK, ignore_result=True, acks_late=True)
def notify_people(
    application_id: int, event_seq: int, user_ids: list[int], kind: str, outbox_id: int | None = None
) -> int:
    """The people the command named hear of its event (an expert drawn before they may see the file, a visit)."""
    if not user_ids:
        return 0
    channels = settings().channels
    with db.transaction() as session:
        event = session.get(AuditEvent, event_seq)
        note = str((event.payload or {}).get("note") or "") if event is not None else ""
        made = operations.notify_people(session, application_id, event_seq, user_ids, kind, note)
        delivery.plan(session, made, channels)
    outbox.kick()
    return len(made)


@shared_task(name=DELIVER_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def deliver(delivery_id: int, outbox_id: int | None = None) -> str:
    """One delivery by its channel (see notifications.delivery: claimed, sent, recorded; retried by the sweep)."""
    return delivery.deliver(delivery_id, settings())


@shared_task(name=SWEEP_TASK, ignore_result=True)
def sweep_deliveries() -> int:
    """Hand out again every delivery whose retry is due or whose worker died holding it."""
    with db.transaction() as session:
        count = delivery.sweep(session)
    if count:
        outbox.kick()
    return count


@shared_task(name=DIGEST_TASK, ignore_result=True)
def send_digests() -> int:
    """The day's digest for everyone who holds mail for one (once a day, however often the beat runs)."""
    with db.transaction() as session:
        made = delivery.make_digests(session, today_in_shanghai(utcnow()))
    if made:
        outbox.kick()
    return len(made)


@shared_task(name=REMIND_TASK, ignore_result=True)
def remind() -> int:
    """Today's reminders (deadlines near, visits tomorrow, approvals waiting, each reviewer's queue), once each."""
    configured = settings()
    channels = configured.channels
    with db.transaction() as session:
        made = reminders.run(session, utcnow(), configured.reminder_options)
        delivery.plan(session, made, channels)
    outbox.kick()
    return len(made)


registry.subscribe("transitioned", TASK)
registry.subscribe("assigned", TASK)  # an expert put on a panel hears of it (the leader: "your turn")
registry.subscribe("panel_notice", PEOPLE_TASK)  # review.panels: drawn onto a panel, the site visit
registry.subscribe(delivery.TOPIC, DELIVER_TASK)
