"""The stage stepper on the application's page: workflow.progress read for the page, the desks named as the
applicant knows them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from web.core.pages import lang
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application
from workflow.progress import desk_name, progress_of


def stepper_context(app: Application, definition: Definition, viewer: User) -> dict[str, Any]:
    """What `_stepper.html` shows: the stages with their status, the one the application is at, who holds it,
    what they must do, what comes next and by when (the last day, Beijing time)."""
    here = lang()
    found = progress_of(db.session, app, definition, here)
    organisation = app.organisation.name if app.organisation is not None else ""
    yours = viewer.role == "applicant"
    applicant = (
        gettext("You (%(unit)s)", unit=organisation)
        if yours
        else gettext("The applicant (%(unit)s)", unit=organisation)
    )
    holders = [
        applicant if role == "applicant" else desk_name(role, definition, app.district, organisation, here)
        for role in found.holders
    ]
    return {
        "steps": found.steps,
        "current": found.current,
        "ended": found.ended,
        "holders": holders,
        "applicant_holds": found.holders == ("applicant",),
        "actions": found.actions,
        "next_label": found.next_label,
        "due": found.due.isoformat() if found.due else None,
        "due_source": found.due_source,
    }
