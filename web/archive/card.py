"""The binder card on an application's page: build the binder (a worker binds it), its progress, the download."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_wtf import FlaskForm

from applications import binder_builds
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application


class BinderForm(FlaskForm):
    """The build button: the CSRF token is all it carries."""


def build_view(application_id: int, build: Any) -> dict[str, Any]:
    """A build as the card and its polling read it."""
    done = build.status == "done"
    return {
        "id": build.id,
        "status": build.status,
        "done": build.done,
        "total": build.total,
        "error": build.error,
        "status_url": url_for("archive_pages.binder_status", application_id=application_id, build_id=build.id),
        "download": url_for("archive_pages.binder_download", application_id=application_id, build_id=build.id)
        if done
        else None,
    }


def binder_card(app: Application, definition: Definition, user: User, **_: Any) -> dict[str, Any]:
    """Anyone who sees the application may have its binder (附件4's bound material, from what is on file)."""
    build = binder_builds.latest(db.session, app.id)
    return {
        "form": BinderForm(prefix="binder"),
        "action": url_for("archive_pages.binder_request", application_id=app.id),
        "build": build_view(app.id, build) if build is not None else None,
    }
