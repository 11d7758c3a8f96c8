"""The meters area's pages: the evidence pictures beside the criteria on the expert's tablet."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from meters import bulk, ingest, snapshots
from meters.models import Meter
from web.core.actor import me
from web.core.pages import commit_reads
from web.meters.blueprints import pages as bp
from web.meters.card import FreshSnapshotForm
from web.meters.charts import chart_response
from workflow.accounts import Organisation
from workflow.db import db
from workflow.errors import Forbidden, InvalidInput, NotFound

SHOWN_REFUSALS = 20  # flashed after an upload; the count says how many more


class ReadingsUploadForm(FlaskForm):
    file = FileField(_l("Readings file (CSV)"), validators=[FileRequired(_l("Choose a file to upload."))])


@bp.get("/applications/<int:application_id>/evidence/<int:snapshot_id>/charts/<chart>.<fmt>")
@login_required
def evidence_chart(application_id: int, snapshot_id: int, chart: str, fmt: str) -> Response:
    """A picture of the snapshot's frozen figures (the tablet keeps it with the sheet for the visit offline)."""
    try:
        return chart_response(application_id, snapshot_id, chart, fmt)
    except NotFound:
        abort(404)  # the page's 404, as for anything not there (the engine's NotFound is the API's to word)


@bp.route("/applications/<int:application_id>/evidence", methods=["POST"])
@login_required
def take_snapshot(application_id: int) -> Response:
    """The coordinator asks for a fresh snapshot from the page (a worker takes it); back to the application (303)."""
    if not FreshSnapshotForm(prefix="evidence").validate_on_submit():
        abort(400)
    commit_reads()
    try:
        snapshots.request_fresh(me(), application_id, request_id=g.request_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    flash(gettext("A fresh evidence snapshot is being taken; it shows here when it is ready."), "success")
    return redirect(url_for("applications.application", application_id=application_id) + "#evidence", 303)


def _store(user: Any, organisation_id: int, upload: Any) -> ingest.Ingested:
    """The upload through the same paths as `manage.py meters import` (COPY on PostgreSQL)."""
    name = upload.filename or "upload.csv"
    if db.dialect == "postgresql":
        return bulk.load_file(user, organisation_id, upload.stream, f"page: {name}")
    text = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
    return ingest.ingest(user, organisation_id, ingest.read_readings(text), f"page: {name}")


@bp.route("/meters/readings", methods=["GET", "POST"])
@login_required
def upload_readings() -> Any:
    """The unit's own account uploads a readings CSV, with a progress bar; refused rows are listed by line."""
    user = me()
    if user.role != "applicant" or user.organisation_id is None:
        abort(403)
    organisation_id = user.organisation_id
    form = ReadingsUploadForm()
    wants_json = request.accept_mimetypes.best == "application/json"
    errors: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            commit_reads()
            try:
                result = _store(user, organisation_id, form.file.data)
            except InvalidInput as exc:
                errors.append(exc.detail)
            except UnicodeDecodeError:
                errors.append(gettext("The file is not UTF-8 text."))
            else:
                flash(
                    gettext(
                        "%(stored)s readings stored, %(same)s already there, %(refused)s rows refused.",
                        stored=result.inserted,
                        same=result.unchanged,
                        refused=result.refused_count,
                    ),
                    "warning" if result.refused_count else "success",
                )
                for problem in result.refused[:SHOWN_REFUSALS]:
                    flash(
                        gettext(
                            "Line %(line)s, %(column)s: %(message)s",
                            line=problem.line,
                            column=problem.column,
                            message=problem.message,
                        ),
                        "error",
                    )
                if result.refused_count > SHOWN_REFUSALS:
                    flash(
                        gettext("… and %(more)s more refused rows.", more=result.refused_count - SHOWN_REFUSALS),
                        "error",
                    )
                target = url_for("meter_pages.upload_readings")
                return jsonify(redirect=target) if wants_json else redirect(target, 303)
        else:
            errors += [str(e) for messages in form.errors.values() for e in messages]
        if wants_json:
            return jsonify(status=422, errors=[{"field": "file", "message": e} for e in errors]), 422
    organisation = db.session.get(Organisation, organisation_id)
    count = db.session.scalar(select(func.count()).where(Meter.organisation_id == organisation_id)) or 0
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    html = render_template(
        "meter_readings.html",
        form=form,
        errors=errors,
        meters=count,
        unit=organisation.name if organisation else "",
        max_bytes=limit,
        max_mb=limit // (1024 * 1024),
    )
    return html, 422 if errors else 200
