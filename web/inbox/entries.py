"""A notification as the inbox shows it (page and API alike): what happened to which application, the words
addressed to the reader, the deadline, the link, whether it was read."""

from __future__ import annotations

from typing import Any

from flask import url_for

from notifications.kinds import KINDS
from notifications.models import Notification
from workflow.db import db, iso_utc
from workflow.models import Application, AuditEvent
from workflow.visibility import programme_definitions


def _both(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def entry(notification: Notification, app: Application | None) -> dict[str, Any]:
    """One inbox entry; an application the reader may no longer see shows its id only."""
    kind = KINDS[notification.kind]
    event = db.session.get(AuditEvent, notification.event_seq) if notification.event_seq else None
    application = None
    event_view = None
    if app is not None:
        definition = programme_definitions(db.session)[app.programme_version_id]
        application = {
            "id": app.id,
            "reference": app.reference,
            "project_name": app.project_name,
            "organisation": app.organisation.name,
            "state": app.state,
            "state_label": _both(definition.state_label(app.state, "zh"), definition.state_label(app.state, "en")),
        }
        if event is not None and event.trigger:
            event_view = {
                "trigger": event.trigger,
                "label": _both(
                    definition.trigger_label(event.trigger, "zh"), definition.trigger_label(event.trigger, "en")
                ),
            }
    if event is not None and event_view is None:
        event_view = {"trigger": None, "label": _both(event.outcome, event.outcome)}
    if app is not None:
        link = url_for("applications.application", application_id=app.id)
    else:
        link = url_for("inbox_pages.inbox")
    return {
        "id": notification.id,
        "kind": notification.kind,
        "kind_label": _both(kind.zh, kind.en),
        "application_id": notification.application_id,
        "application": application,
        "event": event_view,
        "note": notification.note,
        "due_on": notification.due_on.isoformat() if notification.due_on else None,
        "data": notification.data,
        "link": link,
        "created_at": iso_utc(notification.created_at),
        "read_at": iso_utc(notification.read_at),
    }
