"""Getting each notification to its reader by each channel, exactly once as far as the far end lets us know.

A new notification gets one `Delivery` per channel it should travel by (mail by the reader's preference — a
deadline always, at once —, SMS for deadlines where a gateway and a phone number exist, the webhook where one is
configured); the unique (occasion, recipient, channel) makes planning twice plan nothing. Each pending delivery is
handed to a worker through the outbox.

`deliver` claims the row (status `sending`, with a lease), sends outside any transaction, then records the outcome:
`sent`; or `pending` again with the next attempt after a backoff; or, when the error is permanent or the attempts
are spent, `dead` — an administrator lists those and may send one again. A worker killed mid-send leaves the row
`sending`; once its lease runs out, the sweep hands it out again. A mail the SMTP server had already accepted in the
instant before the kill would go twice: the Message-ID is the same on both, so a mail client shows it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from applications.programme_words import programme_words
from notifications import mail
from notifications.channels import Channel, ChannelError, Message
from notifications.kinds import KINDS
from notifications.models import Delivery, Notification
from notifications.operations import preferences
from workflow import outbox
from workflow.accounts import SYSTEM, User
from workflow.beijing import beijing_time
from workflow.db import as_utc, db, utcnow
from workflow.errors import NotAllowedNow, NotFound
from workflow.models import AuditEvent
from workflow.visibility import get_visible, programme_definitions

log = logging.getLogger(__name__)

TOPIC = "delivery_planned"  # the outbox topic a pending delivery is published under
BACKOFF = (60, 300, 1800, 7200, 21600)  # seconds before attempts 2…6; a sixth failure is final


@dataclass(frozen=True)
class Settings:
    """What delivering needs from the configuration (built by the shell from the app's)."""

    base_url: str  # where links in mail point: PUBLIC_URL
    channels: dict[str, Channel] = field(default_factory=dict)
    lease: dt.timedelta = dt.timedelta(minutes=2)  # a claimed row is another worker's until then
    backoff: tuple[int, ...] = BACKOFF
    host: str = "emc.localhost"  # the right-hand side of Message-IDs
    reminder_options: dict[str, Any] = field(default_factory=dict)  # e.g. approval_days


def _wants(notification: Notification, user: User, modes: dict[str, str]) -> str:
    """'immediate', 'digest' or 'never' for this mail: a deadline is always immediate."""
    kind = KINDS[notification.kind]
    if kind.deadline or notification.due_on is not None:
        return "immediate"
    return modes.get(notification.kind, "immediate")


def plan(session: Session, notification_ids: Iterable[int], channels: Iterable[str]) -> list[int]:
    """The deliveries new notifications need, written with them; the pending ones published. Their ids."""
    ids = sorted(set(notification_ids))
    if not ids:
        return []
    available = set(channels)
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for notification in session.scalars(select(Notification).where(Notification.id.in_(ids))):
        user = session.get(User, notification.user_id)
        if user is None or not user.active:
            continue
        urgent = KINDS[notification.kind].deadline or notification.due_on is not None
        base = {"notification_id": notification.id, "user_id": user.id, "occasion": notification.occasion}
        mode = _wants(notification, user, preferences(session, user.id))
        if "email" in available and user.email and mode != "never":
            status = "held" if mode == "digest" else "pending"
            rows.append({**base, "channel": "email", "address": user.email, "status": status})
        if "sms" in available and user.phone and urgent:
            rows.append({**base, "channel": "sms", "address": user.phone, "status": "pending"})
        if "webhook" in available:
            rows.append({**base, "channel": "webhook", "address": user.username, "status": "pending"})
    return _insert_and_publish(session, rows, now)


def _insert_and_publish(session: Session, rows: list[dict[str, Any]], now: dt.datetime) -> list[int]:
    if not rows:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"attempts": 0, "created_at": now, **row} for row in rows]
    statement = insert(Delivery).values(rows).on_conflict_do_nothing()
    made = list(session.scalars(statement.returning(Delivery.id, sort_by_parameter_order=False)))
    for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(made), Delivery.status == "pending")):
        outbox.publish(session, TOPIC, {"delivery_id": delivery.id})
    return made


# --- composing ------------------------------------------------------------------------------------------------------


def _link(settings: Settings, application_id: int | None) -> str:
    base = settings.base_url.rstrip("/")
    return f"{base}/applications/{application_id}" if application_id else f"{base}/inbox"


def _beijing(value: str | dt.datetime) -> str:
    return beijing_time(value)


def values_for(session: Session, notification: Notification, user: User, settings: Settings) -> dict[str, Any]:
    """What the templates are filled with for one notification, in the reader's language."""
    lang = user.language
    values: dict[str, Any] = {
        "recipient": user.display_name or user.username,
        "note": notification.note,
        "due_on": notification.due_on.isoformat() if notification.due_on else None,
        "link": _link(settings, notification.application_id),
        "event_label": "",
        "visit": None,
        **notification.data,
    }
    if notification.application_id is not None:
        app = get_visible(session, SYSTEM, notification.application_id)
        assert app is not None
        definition = programme_definitions(session)[app.programme_version_id]
        words = programme_words(definition)
        values["programme"] = words.fund if lang == "zh" else f"Shanghai energy-saving special fund ({definition.code})"
        values["application"] = {
            "id": app.id,
            "reference": app.reference,
            "project_name": app.project_name,
            "organisation": app.organisation.name,
            "state": definition.state_label(app.state, lang),
        }
        event = session.get(AuditEvent, notification.event_seq) if notification.event_seq else None
        if event is not None:
            if event.trigger:
                values["event_label"] = definition.trigger_label(event.trigger, lang)
            else:
                values["event_label"] = _OUTCOMES.get(event.outcome, {}).get(lang, event.outcome)
            payload = event.payload or {}
            if payload.get("visit_at"):
                values["visit"] = {"when": _beijing(payload["visit_at"]), "place": payload.get("place", "")}
    values["items"] = [{**item, "link": _link(settings, item.get("id"))} for item in values.get("items", [])]
    return values


_OUTCOMES = {
    "assigned": {"zh": "分配", "en": "assigned"},
    "visit_scheduled": {"zh": "安排现场核查", "en": "site visit scheduled"},
    "panel_drawn": {"zh": "抽选专家组", "en": "panel drawn"},
}


def _digest_values(session: Session, row: Delivery, user: User, settings: Settings) -> dict[str, Any]:
    lang, entries = user.language, []
    held = session.scalars(select(Delivery).where(Delivery.digest_id == row.id).order_by(Delivery.id))
    for one in held:
        notification = session.get(Notification, one.notification_id)
        if notification is None:
            continue
        values = values_for(session, notification, user, settings)
        entries.append(
            {
                "kind": KINDS[notification.kind].label(lang),
                "application_id": notification.application_id,
                "project_name": values.get("application", {}).get("project_name", ""),
                "event": values["event_label"],
                "link": values["link"],
            }
        )
    return {
        "recipient": user.display_name or user.username,
        "day": row.occasion.removeprefix("digest:"),
        "entries": entries,
        "link": f"{settings.base_url.rstrip('/')}/inbox",
    }


def compose(session: Session, row: Delivery, settings: Settings) -> Message:
    """The message one delivery carries, rendered from the template files in the reader's language."""
    user = session.get(User, row.user_id)
    assert user is not None
    notification = session.get(Notification, row.notification_id) if row.notification_id else None
    if notification is None:
        rendered = mail.render(mail.DIGEST, user.language, _digest_values(session, row, user, settings))
        data: dict[str, Any] = {"kind": mail.DIGEST, "occasion": row.occasion, "link": f"{settings.base_url}/inbox"}
    else:
        values = values_for(session, notification, user, settings)
        rendered = mail.render(notification.kind, user.language, values)
        data = {
            "kind": notification.kind,
            "application_id": notification.application_id,
            "occasion": notification.occasion,
            "link": values["link"],
        }
    return Message(
        to=row.address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        lang=user.language,
        message_id=f"<delivery-{row.id}@{settings.host}>",
        data=data,
    )


# --- sending --------------------------------------------------------------------------------------------------------


def deliver(delivery_id: int, settings: Settings, now: dt.datetime | None = None) -> str:
    """Send one delivery if it is due and no one else holds it; its status afterwards. Safe to run again."""
    now = as_utc(now) if now is not None else utcnow()
    with db.transaction() as session:
        row = session.get(Delivery, delivery_id, with_for_update=True)
        if row is None:
            return "missing"
        if row.status not in ("pending", "sending"):
            return row.status  # sent, dead, held for a digest, in a digest: nothing to do
        if row.next_attempt_at is not None and as_utc(row.next_attempt_at) > now:
            return "busy" if row.status == "sending" else "waiting"  # leased to a worker, or a retry not yet due
        channel = settings.channels.get(row.channel)
        if channel is None:
            row.status, row.last_error = "dead", f"the {row.channel} channel is not configured"
            return row.status
        message = compose(session, row, settings)
        row.status, row.attempts, row.message_id = "sending", row.attempts + 1, message.message_id
        row.next_attempt_at = now + settings.lease
    error: ChannelError | None = None
    try:
        channel.send(message)
    except ChannelError as exc:
        error = exc
        log.warning("delivery %s (%s to %s) failed: %s", delivery_id, row.channel, message.to, exc)
    with db.transaction() as session:
        row = session.get(Delivery, delivery_id, with_for_update=True)
        assert row is not None
        if error is None:
            row.status, row.sent_at, row.next_attempt_at, row.last_error = "sent", utcnow(), None, None
        elif error.permanent or row.attempts > len(settings.backoff):
            row.status, row.next_attempt_at, row.last_error = "dead", None, str(error)[:2000]
        else:
            row.status, row.last_error = "pending", str(error)[:2000]
            row.next_attempt_at = utcnow() + dt.timedelta(seconds=settings.backoff[row.attempts - 1])
        return row.status


def due_again(session: Session, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries to hand out again: a retry now due, or a claim whose worker died (its lease ran out)."""
    now = as_utc(now) if now is not None else utcnow()
    rows = session.scalars(
        select(Delivery.id)
        .where(
            Delivery.status.in_(("pending", "sending")),
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return list(rows)


def sweep(session: Session, now: dt.datetime | None = None) -> int:
    """Publish every delivery `due_again` (the beat runs this); a row already on its way is harmless twice."""
    ids = due_again(session, now)
    for delivery_id in ids:
        outbox.publish(session, TOPIC, {"delivery_id": delivery_id})
    return len(ids)


def resend(session: Session, delivery_id: int) -> Delivery:
    """An administrator sends a dead delivery again: its attempts start afresh."""
    row = session.get(Delivery, delivery_id, with_for_update=True)
    if row is None or row.status != "dead":
        if row is None:
            raise NotFound(f"delivery {delivery_id} not found")
        raise NotAllowedNow(f"delivery {delivery_id} is {row.status}, not dead", row.status, [])
    row.status, row.attempts, row.next_attempt_at = "pending", 0, None
    outbox.publish(session, TOPIC, {"delivery_id": row.id})
    return row


def dead(session: Session, limit: int = 200) -> list[Delivery]:
    return list(
        session.scalars(select(Delivery).where(Delivery.status == "dead").order_by(Delivery.id.desc()).limit(limit))
    )


# --- the day's digest -------------------------------------------------------------------------------------------------


def make_digests(session: Session, day: dt.date) -> list[int]:
    """For each reader with held mail, one digest delivery for `day` (once, however often it runs) taking it."""
    held = session.scalars(
        select(Delivery).where(Delivery.status == "held", Delivery.channel == "email").order_by(Delivery.id)
    ).all()
    by_user: dict[int, list[Delivery]] = {}
    for row in held:
        by_user.setdefault(row.user_id, []).append(row)
    made: list[int] = []
    occasion = f"digest:{day.isoformat()}"
    for user_id, rows in sorted(by_user.items()):
        digest = session.scalars(
            select(Delivery).where(
                Delivery.occasion == occasion, Delivery.user_id == user_id, Delivery.channel == "email"
            )
        ).one_or_none()
        if digest is None:
            digest = Delivery(
                notification_id=None,
                user_id=user_id,
                occasion=occasion,
                channel="email",
                address=rows[-1].address,
                status="pending",
                attempts=0,
            )
            session.add(digest)
            session.flush()
            outbox.publish(session, TOPIC, {"delivery_id": digest.id})
            made.append(digest.id)
        elif digest.status != "pending":
            continue  # today's already went: what was held since waits for tomorrow's
        for row in rows:
            row.status, row.digest_id = "digested", digest.id
    return made
