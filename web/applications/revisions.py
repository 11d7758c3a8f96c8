"""What changed since the revision a reviewer last read and the points the latest one answered, for the
application page (opening it records the read); the "mark as read" form for a page that posts it."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import abort, after_this_request, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
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
from workflow.errors import InvalidInput, NotFound, WorkflowError
from workflow.models import Application
from workflow.visibility import programme_definitions

log = logging.getLogger(__name__)

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
    """What `_changes.html` shows a reviewer, in the page's language: the points the latest revision answered,
    each beside its answer, and what changed since the revision they last read (or, if they have read none, since
    the previous submission). None for the applicant (they made the changes) and when there is neither.

    Opening the page is reading it: once this page is sent, the latest revision counts as read by this reader, so
    the next opening shows only what arrives after it (no "mark as read" needed first)."""
    if user.role == "applicant":
        return None
    view = revisions.reader_view(db.session, user, app.id)
    report = view.report
    pending = report.latest != report.since
    if not pending and view.answered is None:
        return None
    if pending and request.method == "GET":
        _read_once_sent(user.id, app.id, report.latest)
    definition = programme_definitions(db.session)[app.programme_version_id]
    fields = {f.key: (f.zh if lang() == "zh" else f.en) for f in form_version(definition.form).fields}
    order = {key: n for n, key in enumerate(fields)}
    form_changes = sorted(report.changes.form, key=lambda c: (order.get(c["field"], len(order)), c["field"]))
    answered = view.answered
    return {
        "since": report.since,
        "latest": report.latest,
        "pending": pending,
        "read_before": view.read_before,
        # Only one submission and nothing read: every field would be "new"; the page shows the application in full.
        "first_read": pending and report.since == 0,
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
        "answered": answered,
        # Earlier supplement answers the reader has not read (the latest revision's are shown as `answered`).
        "supplements": [s for s in report.supplements if answered is None or s["revision"] != answered["revision"]],
    }


def _read_once_sent(user_id: int, application_id: int, number: int) -> None:
    """Record revision `number` as read by the reader after the page showing its changes has been built."""

    @after_this_request
    def _mark(response: Response) -> Response:
        if response.status_code != 200:
            return response
        try:
            commit_reads()  # end the page's read transaction: the marker is written in its own
            revisions.mark_read(user_id, application_id, number)
        except (WorkflowError, SQLAlchemyError):
            # The page was shown; the changes show again next time rather than the page failing.
            log.warning("could not record revision %s of application %s as read", number, application_id, exc_info=True)
        return response


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
