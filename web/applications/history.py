"""The detail page's history: the audit events `operations.history` lets the reader see, as the page shows them."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from applications.models import category_label
from web.core.page_forms import FIELD_LABELS, N_
from web.core.pages import lang, local_time, role_label
from workflow import operations
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application, AuditEvent

# The review desks' own events (panel, declarations, sheets, the visit).
REVIEW_OUTCOMES = {
    "panel_drawn": N_("Expert panel drawn"),
    "panel_short": N_("Expert panel left short"),
    "declared": N_("Conflict-of-interest declaration"),
    "visit_scheduled": N_("Site visit scheduled"),
    "scored": N_("Checklist results saved"),
    "photo_added": N_("Photo evidence added"),
    "sheet_submitted": N_("Checklist sheet signed and submitted"),
}

# What a `file_read` event names (applications.file_reads.FILES), in words.
FILES_READ = {
    "checklist_photo": N_("Site verification photo"),
    "binder": N_("Binder"),
    "credit_authorisation": N_("Credit-query authorisation letter"),
    "application_form": N_("Application form and report"),
    "authenticity_commitment": N_("Authenticity commitment"),
}


def _read(payload: dict[str, Any]) -> str:
    """A file downloaded or viewed: `attachment_read` (an attachment) and `file_read` (any other file)."""
    file = payload.get("file")
    what = gettext(FILES_READ[file]) if isinstance(file, str) and file in FILES_READ else gettext("Attachment")
    if payload.get("how") == "view":
        return gettext("Viewed: %(file)s", file=what)
    return gettext("Downloaded: %(file)s", file=what)


def _shown(value: Any) -> str | list[str]:
    """A payload value as the page reads it: text, or a list of texts (the points to correct, one item each)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    return json.dumps(value, ensure_ascii=False)


def _action(event: AuditEvent, definition: Definition, payload: dict[str, Any]) -> str:
    if event.outcome == "transition":
        return definition.trigger_label(event.trigger or "", lang())
    if event.outcome == "created":
        return gettext("Created")
    if event.outcome == "edited":
        return gettext("Form edited")
    if event.outcome == "attached":
        return gettext("Uploaded: %(document)s", document=category_label(payload.get("category", ""), lang()))
    if event.outcome == "authoriser_set":
        return gettext("Credit-query authoriser recorded")
    if event.outcome == "assigned":
        return gettext(
            "Assigned %(user)s (%(role)s)", user=payload.get("user", ""), role=role_label(payload.get("role"))
        )
    if event.outcome in ("attachment_read", "file_read"):
        return _read(payload)
    if event.outcome in REVIEW_OUTCOMES:
        return gettext(REVIEW_OUTCOMES[event.outcome])
    return event.outcome


def people(user_ids: set[int]) -> dict[int, str]:
    """Who acted, as a reader knows them: the name, and the unit (or the district) they act for; never the login."""
    if not user_ids:
        return {}
    rows = db.session.scalars(select(User).options(joinedload(User.organisation)).where(User.id.in_(user_ids)))
    out = {}
    for user in rows:
        name = user.display_name or user.username
        where = user.organisation.name if user.organisation is not None else (user.district or "")
        out[user.id] = f"{name}（{where}）" if where and where != name else name
    return out


def event_view(event: AuditEvent, definition: Definition, names: dict[int, str] | None = None) -> dict[str, Any]:
    payload = event.payload or {}
    details: list[tuple[str, str | list[str]]] = []
    if event.outcome == "transition":
        for key, value in payload.items():
            if key == "comment":
                continue
            if key == "items":
                value = [i if isinstance(i, str) else str(i.get("text", "")) for i in value]
            elif key == "answers" and isinstance(value, dict):
                value = [f"{k}. {v}" for k, v in value.items()]
            details.append((str(FIELD_LABELS.get(key, key)), _shown(value)))
    if event.outcome == "attached":
        details = [
            (gettext("File"), str(payload.get("filename", ""))),
            (gettext("version"), str(payload.get("version"))),
        ]
    elif event.outcome == "authoriser_set":  # the ID number only ever masked
        shown = ((N_("Name"), "person_name"), (N_("Role"), "role"), (N_("ID number"), "id_card_masked"))
        details = [(gettext(label), str(payload.get(key, ""))) for label, key in shown]
    same_state = event.from_state == event.to_state
    return {
        "time": local_time(event.occurred_at),
        "actor": (names or {}).get(event.actor_id or 0) or _system_name(event.actor),
        "role": role_label(event.role),
        "action": _action(event, definition, payload),
        "from_state": None if same_state else definition.state_label(event.from_state, lang()),
        "to_state": None if same_state else definition.state_label(event.to_state, lang()),
        "comment": payload.get("comment") if event.outcome == "transition" else None,
        "details": details,
    }


def history_card(app: Application, definition: Definition, user: User) -> list[dict[str, Any]]:
    """Newest first. Denied attempts stay in the audit chain for auditors; the timeline shows what happened."""
    events = [e for e in operations.history(db.session, user, app.id) if e.outcome != "denied"]
    names = people({e.actor_id for e in events if e.actor_id is not None})
    return [event_view(e, definition, names) for e in reversed(events)]


def _system_name(actor: str) -> str:
    """An act of no account: the system's own (deadlines, packing), or an operator's command line."""
    return gettext("the system") if actor == "system" else actor
