"""The document viewer beside the decision form (issue 15 item 6): a reviewer with a decision to take reads the
applicant's documents on the same page, a PDF or a scan shown inline in a frame, the others to download."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from applications import attachments
from applications.models import category_label
from web.applications.attachments import readable_attachment
from web.applications.blueprints import pages as bp
from web.core.pages import lang
from web.core.transfers import attachment_response
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import allowed_triggers
from workflow.models import Application

# What a browser shows by itself and runs nothing in (uploads are typed by their bytes: applications.attachments).
VIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg"})
# Shown only inside this site's own pages; an image needs nothing else, the browser's PDF viewer brings its own.
VIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def viewer_card(app: Application, definition: Definition, user: User, **_: Any) -> dict[str, Any] | None:
    """The applicant's current documents to read beside the decisions, for a reviewer who has one to take."""
    if user.role == "applicant" or not allowed_triggers(db.session, app, user, definition):
        return None
    rows = [row for row in attachments.attachments_of(db.session, user, app.id) if row.current]
    if not rows:
        return None
    items = [
        {
            "id": row.id,
            "label": category_label(row.category, lang()),
            "filename": row.filename,
            "viewable": row.content_type in VIEWABLE,
            "view_url": url_for("applications.view_attachment", attachment_id=row.id),
            "download_url": url_for("applications.download_attachment", attachment_id=row.id),
        }
        for row in rows
    ]
    # Nothing loads until the reader picks a document: the browser's PDF viewer takes the keyboard focus when it
    # opens, and would take it from whoever is already typing in the decision form beside it.
    wanted = request.args.get("view", type=int)
    return {"items": items, "selected": next((i for i in items if i["id"] == wanted), None)}


@bp.route("/attachments/<int:attachment_id>/view")
@login_required
def view_attachment(attachment_id: int) -> Response:
    """The stored bytes shown inline, framed only by this site, where the browser can show the type; a download
    otherwise. Whoever may not see the application gets the same 404 as for no attachment."""
    row = readable_attachment(attachment_id, "view")
    if row.content_type not in VIEWABLE:
        return redirect(url_for("applications.download_attachment", attachment_id=row.id), 303)  # type: ignore[return-value]
    response = attachment_response(row)
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace("attachment", "inline", 1)
    response.headers["Content-Security-Policy"] = VIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
