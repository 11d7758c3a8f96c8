"""Who is asking, for pages (the logged-in session) and the API (the bearer token) alike, and what they may load."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.errors import NotFound
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions


def me() -> User:
    """The caller, for pages (the logged-in session) and the API (the bearer token) alike."""
    if "api_user" in g:
        return g.api_user  # type: ignore[no-any-return]
    return current_user._get_current_object()  # type: ignore[no-any-return]


def visible_or_404(application_id: int) -> tuple[Application, Definition]:
    """Through the one visibility function: not visible answers exactly as not existing."""
    definitions = programme_definitions(db.session)
    app = get_visible(db.session, me(), application_id, definitions=definitions)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    return app, definitions[app.programme_version_id]
