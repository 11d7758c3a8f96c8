"""Who sits on an application's panel now, and the one state the panel works in (shared by panels, sheets, visit)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.accounts import Actor
from workflow.engine import allowed_triggers
from workflow.errors import NotAllowedNow
from workflow.models import Application, Assignment
from workflow.visibility import programme_definitions

PANEL_STATE = "site_verification"


def member_of(session: Session, application_id: int, user_id: int | None) -> Assignment | None:
    """The active, declared-clear panel assignment of this expert, if any."""
    return session.scalars(
        select(Assignment).where(
            Assignment.application_id == application_id,
            Assignment.user_id == user_id,
            Assignment.role == "expert",
            Assignment.active.is_(True),
            Assignment.conflict.is_(False),
        )
    ).one_or_none()


def in_panel_state(session: Session, app: Application, who: Actor, what: str) -> None:
    """Refuse (409, with what the actor may do now) unless the application is in site verification."""
    if app.state != PANEL_STATE:
        definition = programme_definitions(session)[app.programme_version_id]
        raise NotAllowedNow(
            f"{what} only in state {PANEL_STATE}; the application is in '{app.state}'",
            app.state,
            allowed_triggers(session, app, who, definition),
        )
