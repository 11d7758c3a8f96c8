"""The verification record (.docx) on pages: the detail-page card and the download."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from review import record
from web.core.actor import me
from web.core.api import MAX_ID, docx_response
from web.core.extensions import blob_store
from web.core.pages import lang, local_time
from web.panel.blueprints import pages as bp
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.errors import Forbidden, NotFound
from workflow.models import Application


def record_card(app: Application, definition: Definition, user: User) -> dict[str, Any] | None:
    """The card for those who may read the record, once the application has a panel; None hides it."""
    why, checklist, conclusion = record.refusal(db.session(), user, app, definition)
    if why is not None or checklist is None:
        return None
    return {
        "url": url_for("panel.verification_record_download", application_id=app.id),
        "annex": checklist.annex,
        "title": checklist.title if lang() == "zh" else checklist.title_en,
        "result": conclusion.result if conclusion else None,
        "concluded_at": local_time(conclusion.concluded_at) if conclusion else "",
    }


@bp.route("/applications/<int:application_id>/documents/verification-record")
@login_required
def verification_record_download(application_id: int) -> Response:
    if application_id > MAX_ID:
        abort(404)
    user = me()
    try:
        name, data = record.record_document(db.session(), user, application_id, blob_store(current_app))
    except NotFound:
        abort(404)
    except Forbidden:
        if user.role == record.APPLICANT:
            why = gettext("The verification record opens to the applicant once the panel has concluded.")
        else:
            why = gettext(
                "Only the panel, the agency, the commission, finance, administrators and auditors read the "
                "verification record."
            )
        abort(403, description=why)
    return docx_response(data, name)
