"""What changed since the revision a reviewer last read, for the application page, and the "mark as read" button."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from applications.models import category_label
from forms.fields import form_version
from review import revisions
from web.applications.blueprints import pages as bp
from web.core.actor import me
from web.core.pages import commit_reads, lang
from workflow.accounts import User
from workflow.db import db
from workflow.errors import InvalidInput, NotFound
from workflow.models import Application
from workflow.visibility import programme_definitions

CHANGE_LABELS = {
    revisions.ADDED: _l("added"),
    revisions.REPLACED: _l("replaced"),
    revisions.REMOVED: _l("removed"),
}


class RevisionReadForm(FlaskForm):
    """The revision the page showed as the latest: a newer one arriving meanwhile stays unread."""

    revision = IntegerField(id="read-revision", widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])


def shown(value: Any) -> str:
    if value is None or value == "":
        return gettext("(empty)")
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _file(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"filename": entry["filename"], "version": entry["version"], "sha256": entry["sha256"][:12]}


def changes_context(user: User, app: Application) -> dict[str, Any] | None:
    """What `_changes.html` shows a reviewer: the changes since the revision they last read, in the page's
    language; None for the applicant (they made the changes) and when the reader is up to date."""
    if user.role == "applicant":
        return None
    report = revisions.changes_for(db.session, user, app.id)
    if report.latest == report.since:
        return None
    definition = programme_definitions(db.session)[app.programme_version_id]
    fields = {f.key: (f.zh if lang() == "zh" else f.en) for f in form_version(definition.form).fields}
    order = {key: n for n, key in enumerate(fields)}
    form_changes = sorted(report.changes.form, key=lambda c: (order.get(c["field"], len(order)), c["field"]))
    read_form = RevisionReadForm(formdata=None)
    read_form.revision.data = report.latest
    return {
        "since": report.since,
        "latest": report.latest,
        # Nothing read yet: every field would be "new"; the page shows the application in full anyway.
        "first_read": report.since == 0,
        "form": [
            {"label": fields.get(c["field"], c["field"]), "before": shown(c["before"]), "after": shown(c["after"])}
            for c in form_changes
        ],
        "attachments": [
            {
                "label": category_label(c["category"], lang()),
                "change": c["change"],
                "change_label": str(CHANGE_LABELS[c["change"]]),
                "before": _file(c["before"]),
                "after": _file(c["after"]),
            }
            for c in report.changes.attachments
        ],
        "supplements": report.supplements,
        "read_form": read_form,
        "read_url": url_for("applications.mark_revisions_read", application_id=app.id),
    }


def changes_card(app: Application, _definition: Any, user: User) -> dict[str, Any] | None:
    """The card on the detail page (shown above the actions: what changed is what the reviewer decides on)."""
    return changes_context(user, app)


@bp.route("/applications/<int:application_id>/revisions/read", methods=["POST"])
@login_required
def mark_revisions_read(application_id: int) -> Response:
    """Mark the revision the page showed as read by the caller; back to the application (303)."""
    detail_url = url_for("applications.application", application_id=application_id)
    form = RevisionReadForm()
    if not form.validate_on_submit():
        flash(gettext("The form was incomplete; the page has been reloaded."), "error")
        return redirect(detail_url, 303)
    user_id = me().id
    commit_reads()
    try:
        marker = revisions.mark_read(user_id, application_id, form.revision.data)
    except NotFound:
        abort(404)
    except InvalidInput:
        flash(gettext("The form was incomplete; the page has been reloaded."), "error")
        return redirect(detail_url, 303)
    flash(gettext("Revision %(number)s marked as read.", number=marker.number), "success")
    return redirect(detail_url, 303)
