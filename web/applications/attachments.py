"""Attachments on the pages: what is required and still missing, a streamed upload with progress, downloads.

The upload is the API's operation (`applications.attachments.upload`) fed from `request.stream`: the body is never
parsed by Flask (which would spool it before the view runs), so CSRFProtect cannot read the token from the form.
The view checks it itself: from the `X-CSRFToken` header the page's script sends (before a byte of the body is
read), or, without script, from the form's `csrf_token` part once the body is in and before anything is stored.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, validate_csrf
from flask_wtf.file import FileField
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Response
from wtforms import SelectField
from wtforms.validators import InputRequired, ValidationError

from applications import attachments
from applications.attachments import supplement_states, upload_states
from applications.models import CATEGORIES, Attachment, category_label
from storage.multipart import UploadTooLarge
from web.applications.blueprints import pages as bp
from web.core.actor import me
from web.core.api import MAX_ID
from web.core.detail import render_detail
from web.core.extensions import csrf
from web.core.page_forms import N_
from web.core.pages import CSRF_TEXTS, commit_reads, lang, local_time
from web.core.transfers import (
    attachment_response,
    audited_attachment,
    too_large_by_header,
    upload_from_request,
    upload_limit,
)
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound, Problem, WorkflowError
from workflow.models import Application

# The upload's problem codes in the reader's language (the type refusal already comes in it).
UPLOAD_MESSAGES = {
    ("file", "required"): N_("Choose a file to upload."),
    ("category", "required"): N_("Choose which document this is."),
    ("category", "unknown"): N_("Choose which document this is."),
    ("file", "too_large"): N_("The file is larger than the limit of %(mb)s MB."),
    ("file", "malformed"): N_("The upload was cut off or damaged; please try again."),
    ("file", "unexpected_file"): N_("Upload one file at a time."),
}


class UploadForm(FlaskForm):
    category = SelectField(_l("Which document"), validators=[InputRequired()])
    file = FileField(_l("File"))


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"  # pragma: no cover


def may_upload(user: User, app: Application, definition: Definition) -> bool:
    return user.role == "applicant" and app.state in upload_states(definition)


def _row_view(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "size": human_size(row.size),
        "version": row.version,
        "uploaded_at": local_time(row.uploaded_at),
        "uploaded_by": row.uploaded_by.username if row.uploaded_by else "",
        "sha256": row.sha256,
        "url": url_for("applications.download_attachment", attachment_id=row.id),
    }


def upload_form(app: Application, definition: Definition, missing: list[str], **kwargs: Any) -> UploadForm:
    form = UploadForm(**kwargs)
    required = set(attachments.required_categories(definition, app.kind, app.form))
    suffix = gettext(" (required)")
    form.category.choices = [
        (key, category_label(key, lang()) + (suffix if key in required else "")) for key in CATEGORIES
    ]
    if not form.is_submitted() and form.category.data is None:
        # The next thing the applicant needs: an answer to the request, or the first document still missing.
        answering = app.state in supplement_states(definition)
        form.category.data = "supplement" if answering else (missing[0] if missing else "other")
    return form


def attachments_context(
    app: Application, definition: Definition, user: User, form: UploadForm | None = None, errors: Any = ()
) -> dict[str, Any]:
    """The attachments card: each required document and whether it is there, every upload with its versions."""
    rows = attachments.attachments_of(db.session, user, app.id, all_versions=True)
    required = attachments.required_categories(definition, app.kind, app.form)
    current = {row.category: row for row in rows if row.current}
    older: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if not row.current:
            older.setdefault(row.category, []).append(_row_view(row))
    categories = [*required, *(c for c in CATEGORIES if c in current and c not in required)]
    missing = [c for c in required if c not in current]
    can_upload = may_upload(user, app, definition)
    return {
        "documents": [
            {
                "category": c,
                "label": category_label(c, lang()),
                "required": c in required,
                "current": _row_view(current[c]) if c in current else None,
                "older": older.get(c, []),
            }
            for c in categories
        ],
        "missing": [category_label(c, lang()) for c in missing],
        "form": (form or upload_form(app, definition, missing)) if can_upload else None,
        "errors": list(errors),
        "max_bytes": current_app.config["MAX_UPLOAD_BYTES"],
        "max_mb": current_app.config["MAX_UPLOAD_BYTES"] // 2**20,
    }


# --- the upload ---------------------------------------------------------------------------------------------


def _check_token(token: str | None) -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(token)
    except ValidationError as exc:
        raise CSRFError(str(exc.args[0]) if exc.args else "CSRF token missing") from None


def _message(problem: Problem) -> str:
    template = UPLOAD_MESSAGES.get((problem.field, problem.code))
    if template is None:
        return problem.message  # the type refusal is written in the reader's language already
    return gettext(template, mb=current_app.config["MAX_UPLOAD_BYTES"] // 2**20)


def _problems(exc: WorkflowError) -> list[Problem]:
    return [Problem(e["field"], e["code"], e["message"]) for e in exc.extra.get("errors", [])] or [
        Problem("file", exc.code, exc.detail)
    ]


def _forget_body() -> None:
    """The body went to the upload (or broke off): forms rendered now must not try to parse it again."""
    request.__dict__.update(form=ImmutableMultiDict(), files=ImmutableMultiDict())


def _refused(application_id: int, problems: list[Problem], status: int, wants_json: bool) -> Any:
    _forget_body()
    errors = [{"field": p.field, "code": p.code, "message": _message(p)} for p in problems]
    if wants_json:
        return jsonify(status=status, errors=errors, detail="；".join(e["message"] for e in errors)), status
    flash({"title": gettext("The file was not uploaded:"), "reasons": [e["message"] for e in errors]}, "error")
    return render_detail(application_id, status=status, sections={"attachments": {"errors": errors}})


@bp.route("/applications/<int:application_id>/attachments", methods=["POST"])
@csrf.exempt
@login_required
def upload_attachment(application_id: int) -> Any:
    """One document, streamed to the blob store; answers JSON to the page's script and a redirect to a plain form."""
    wants_json = request.accept_mimetypes.best == "application/json"
    header_token = request.headers.get("X-CSRFToken")
    if header_token is not None:
        try:
            _check_token(header_token)  # before a byte of the body is read
        except CSRFError:
            if not wants_json:
                raise
            expired = Problem("csrf_token", "csrf", gettext(CSRF_TEXTS[1]))  # the script shows it beside the file
            return _refused(application_id, [expired], 400, wants_json)
    boundary = request.mimetype_params.get("boundary", "")
    if request.mimetype != "multipart/form-data" or not boundary:
        abort(400)
    if too_large_by_header():
        return _refused(application_id, _problems(UploadTooLarge(upload_limit())), 413, wants_json)
    commit_reads()
    try:
        row = upload_from_request(
            me().id,
            application_id,
            boundary,
            lang(),
            extra_fields=("csrf_token",),
            verify=None if header_token is not None else (lambda fields: _check_token(fields.get("csrf_token"))),
        )
    except ClientDisconnected:
        message = "the upload broke off before the whole file arrived"
        return _refused(application_id, [Problem("file", "malformed", message)], 400, wants_json)
    except NotFound:
        abort(404)
    except Forbidden as exc:
        abort(403, description=exc.detail)
    except NotAllowedNow:
        flash(gettext("Documents can be uploaded only while the application is with you."), "error")
        if wants_json:
            return jsonify(status=409, redirect=url_for("applications.application", application_id=application_id)), 409
        return redirect(url_for("applications.application", application_id=application_id), 303)
    except (InvalidInput, UploadTooLarge) as exc:
        return _refused(application_id, _problems(exc), exc.status, wants_json)
    except WorkflowError as exc:  # any other refusal: say it; nothing was kept
        return _refused(application_id, _problems(exc), exc.status, wants_json)
    said = {"file": row.filename, "document": category_label(row.category, lang()), "version": row.version}
    if row.unchanged:  # the same bytes again: no new version
        flash(
            gettext("“%(file)s” is already the current %(document)s (version %(version)s); nothing changed.", **said),
            "info",
        )
    else:
        flash(gettext("“%(file)s” uploaded as %(document)s (version %(version)s).", **said), "success")
    target = url_for("applications.application", application_id=application_id, _anchor="attachments")
    if wants_json:
        status = 200 if row.unchanged else 201
        return jsonify(id=row.id, filename=row.filename, version=row.version, redirect=target), status
    return redirect(target, 303)


@bp.route("/attachments/<int:attachment_id>/download")
@login_required
def download_attachment(attachment_id: int) -> Response:
    """The stored bytes as a download, for whoever may see the application (others get the same 404 as for none)."""
    return attachment_response(readable_attachment(attachment_id, "download"))


def readable_attachment(attachment_id: int, how: str) -> Any:
    """The attachment the caller may read, its reading audited, else the same 404 as for none."""
    if attachment_id > MAX_ID:
        abort(404)
    try:
        return audited_attachment(attachment_id, how)
    except NotFound:
        abort(404)
