"""The expert's tablet page: the checklist offline and online, photos, signature; its service worker.

The page is rendered with the server's answers; `static/checklist.js` keeps every change on the device first
(IndexedDB) and sends it to the JSON endpoints below when there is a connection. Those endpoints answer JSON
only, errors included (`{code, title, detail, errors}`), and check the CSRF token from the `X-CSRFToken` header
themselves (they are exempt from CSRFProtect, which would answer an HTML page and parse a photo's body under
the general size limit before the view could raise it).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from typing import Any

from flask import abort, current_app, g, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from review import photos, scoring, seats
from review.checklists import for_application
from review.models import ChecklistSheet
from web.core import input_guard
from web.core.actor import me
from web.core.extensions import blob_store, csrf
from web.core.pages import PAGE_CSP, commit_reads, lang, local_time
from web.panel.blueprints import pages as bp
from web.panel.checklist_json import (
    SCRIPT_MESSAGES,
    csrf_refused,
    json_body,
    json_error,
    json_view,
    no_cache,
    parse_time,
    problem_message,
    script_message,
    workflow_error,
)
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.errors import InvalidInput, NotFound, Problem, WorkflowError
from workflow.models import Application
from workflow.visibility import get_visible

# Photos waiting on the device show as blob: thumbnails; everything else is the pages' policy.
CHECKLIST_CSP = PAGE_CSP.replace("img-src 'self' data:", "img-src 'self' data: blob:")
# What each evidence picture shows, under it on the sheet (the pictures carry codes, dates and numbers only).
CHART_CAPTIONS = {
    "daily": _l("Daily consumption per tier and energy type; a break in the line is a day without data"),
    "completeness": _l("Completeness per meter and day: red is missing, green is complete"),
    "gaps": _l("Gaps of an hour or more, per meter"),
    "pue": _l("PUE by month; the dashed line is the level above which Shanghai retires data centres"),
}
PHOTO_OVERHEAD = 64 * 1024  # the multipart framing and the small fields around the photo

# The scoring problems a person meets, in the reader's language; any other shows the engine's own message.
# --- the page -------------------------------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/checklist")
@login_required
def checklist(application_id: int) -> Any:
    """The expert's own checklist for one application: a touch page that keeps working offline."""
    user = me()
    commit_reads()  # the sheet is created on first view (a write)
    try:
        sheet = scoring.view_sheet(user.id, application_id, lang())
    except NotFound:
        abort(404)
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    criteria_total = sum(len(cat["criteria"]) for cat in sheet["categories"])
    for photo in (p for cat in sheet["categories"] for c in cat["criteria"] for p in c["photos"]):
        photo["taken_local"] = local_time(parse_time(photo["taken_at"]))
    scored = sum(1 for cat in sheet["categories"] for c in cat["criteria"] if c["result"])
    html = render_template(
        "checklist.html",
        app=app,
        sheet=sheet,
        results=[(key, names[lang()]) for key, names in sheet["results"].items()],
        total=criteria_total,
        scored=scored,
        # Open from the scheduled visit's day; the page rendered before it stays usable offline on the day, since
        # the script unlocks it by the device's date (the server refuses anything sent before the day).
        open_for_scoring=app.state == scoring.SCORING_STATE
        and not sheet["submitted_at"]
        and bool(sheet["visit"]["day"]),
        in_scoring_state=app.state == scoring.SCORING_STATE,
        messages={key: script_message(key) for key, text in SCRIPT_MESSAGES.items() if "%(" not in text},
        # The script puts the criteria in itself.
        missing_template=script_message("submit-missing", criteria="{criteria}"),
        photo_url=url_for("panel.checklist_photo", application_id=application_id, photo_id=0),
        submitted_at=parse_time(sheet["submitted_at"]),
        application_id=application_id,
        chart_captions=CHART_CAPTIONS,
    )
    response = no_cache(Response(html, mimetype="text/html"))
    response.headers["Content-Security-Policy"] = CHECKLIST_CSP
    return response


@bp.route("/applications/<int:application_id>/checklist.json")
@json_view
def checklist_json(application_id: int) -> Any:
    """The expert's sheet as the script reads it; the current CSRF token rides in a header."""
    commit_reads()
    try:
        sheet = scoring.view_sheet(me().id, application_id, lang())
    except NotFound as exc:
        return workflow_error(exc)
    response = no_cache(jsonify(sheet))
    response.headers["X-CSRFToken"] = generate_csrf()
    return response


@bp.route("/applications/<int:application_id>/checklist/sync", methods=["POST"])
@csrf.exempt
@json_view
def checklist_sync(application_id: int) -> Any:
    """Changes made on the device: `{results: [...]}` → what was saved, unchanged, in conflict, and the sheet."""
    refused = csrf_refused()
    if refused is not None:
        return refused
    body = json_body()
    if body is None:
        return json_error(400, "malformed_json", "send a JSON object {results: [...]}")
    results = body.get("results")
    commit_reads()
    try:
        outcome, sheet = scoring.save_answers(me().id, application_id, results, request_id=g.request_id)
    except WorkflowError as exc:
        return workflow_error(exc, results if isinstance(results, list) else [])
    return jsonify(saved=outcome.saved, unchanged=outcome.unchanged, conflicts=outcome.conflicts, sheet=sheet)


def _number(name: str, problems: list[Problem]) -> float | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(Problem(name, "invalid", f"{name} '{raw}' is not a number"))
        return None
    return value


@bp.route("/applications/<int:application_id>/checklist/photos", methods=["POST"])
@csrf.exempt
@json_view
def checklist_photo_upload(application_id: int) -> Any:
    """One photo taken on site (multipart: photo, criterion, client_id, taken_at, latitude, longitude, accuracy_m)."""
    refused = csrf_refused()
    if refused is not None:
        return refused
    if request.mimetype != "multipart/form-data":
        return json_error(415, "unsupported_media_type", "send the photo as multipart/form-data")
    # This route only: a photo may be larger than the general body limit.
    request.max_content_length = photos.PHOTO_MAX_BYTES + PHOTO_OVERHEAD
    try:
        upload = request.files.get("photo")
        form = request.form
    except RequestEntityTooLarge:
        too_large = Problem("photo", "too_large", f"the photo is over {photos.PHOTO_MAX_BYTES} bytes")
        errors = [{**too_large.as_dict(), "message": problem_message(too_large)}]
        return json_error(413, "too_large", too_large.message, errors)
    problems: list[Problem] = input_guard.form_problems(form)  # multipart: the guard left it to us
    if problems:
        return workflow_error(InvalidInput("; ".join(p.message for p in problems), problems))
    if upload is None:
        problems.append(Problem("photo", "required", "send the photo in the part named 'photo'"))
    taken_at = None
    if form.get("taken_at"):
        try:
            taken_at = dt.datetime.fromisoformat(form["taken_at"].replace("Z", "+00:00"))
        except ValueError:
            problems.append(Problem("taken_at", "invalid_time", f"taken_at '{form['taken_at']}' is not an ISO time"))
    latitude, longitude = _number("latitude", problems), _number("longitude", problems)
    accuracy = _number("accuracy_m", problems)
    if problems:
        return workflow_error(InvalidInput("; ".join(p.message for p in problems), problems))
    assert upload is not None
    data = upload.read()
    if not data:
        missing = Problem("photo", "required", "the photo part is empty")
        return workflow_error(InvalidInput(missing.message, [missing]))
    commit_reads()
    try:
        photo = photos.add_photo(
            me().id,
            application_id,
            form.get("criterion", ""),
            data,
            blob_store(current_app),
            client_id=form.get("client_id", ""),
            taken_at=taken_at,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=accuracy,
            request_id=g.request_id,
        )
    except WorkflowError as exc:
        return workflow_error(exc)
    return jsonify(scoring.photo_json(photo)), 201


@bp.route("/applications/<int:application_id>/checklist/photos/<int:photo_id>")
@login_required
def checklist_photo(application_id: int, photo_id: int) -> Any:
    """A photo on the expert's own sheet (only theirs: the sheet is opened as they are); each view audited."""
    user = me()
    user_id = user.id
    commit_reads()
    with db.transaction() as session:
        try:
            sheet_id = scoring.open_sheet(session, user, application_id).sheet.id
        except NotFound:
            abort(404)
    if sheet_id is None:  # a blank sheet not yet saved holds no photo
        abort(404)
    try:
        photo = photos.opened(user_id, photo_id, "view", request_id=g.request_id, sheet_id=sheet_id)
    except NotFound:
        abort(404)
    data = b"".join(blob_store(current_app).open(photo.blob_key))
    response = Response(data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/applications/<int:application_id>/checklist/submit", methods=["POST"])
@csrf.exempt
@json_view
def checklist_submit(application_id: int) -> Any:
    """Sign and submit: `{signature_png_base64, signed_name, confirm}` → the sheet, final from now on."""
    refused = csrf_refused()
    if refused is not None:
        return refused
    body = json_body()
    if body is None:
        return json_error(400, "malformed_json", "send a JSON object {signature_png_base64, signed_name, confirm}")
    encoded = body.get("signature_png_base64") or ""
    if not isinstance(encoded, str):
        encoded = ""
    encoded = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded  # a data: URL as the canvas gives
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        unreadable = Problem("signature", "type_not_allowed", "signature_png_base64 is not base64")
        return workflow_error(InvalidInput(unreadable.message, [unreadable]))
    signed_name = body.get("signed_name")
    commit_reads()
    try:
        sheet = scoring.submit_sheet(
            me().id,
            application_id,
            signature,
            signed_name if isinstance(signed_name, str) else "",
            body.get("confirm") is True,
            blob_store(current_app),
            request_id=g.request_id,
        )
    except WorkflowError as exc:
        return workflow_error(exc)
    return jsonify(sheet)


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the root so its scope covers the checklist pages."""
    assert current_app.static_folder is not None
    response = send_from_directory(current_app.static_folder, "sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- the card on the application page -------------------------------------------------------------------------


def scoring_context(app: Application, definition: Definition, user: User) -> dict[str, Any] | None:
    """A panel expert's way to their own checklist: how far it is and whether it is signed; None for others."""
    if user.role != "expert" or seats.member_of(db.session, app.id, user.id) is None:
        return None
    checklist = for_application(definition, app.kind)
    if checklist is None:
        return None
    # Read only: the sheet itself is created when the expert first opens the checklist.
    sheet = db.session.scalars(
        select(ChecklistSheet).where(ChecklistSheet.application_id == app.id, ChecklistSheet.expert_id == user.id)
    ).one_or_none()
    answers = scoring.answers_of(db.session, sheet.id) if sheet is not None else {}
    total = len(checklist.criteria_for(app.kind))
    return {
        "url": url_for("panel.checklist", application_id=app.id),
        "title": checklist.title if lang() == "zh" else checklist.title_en,
        "annex": checklist.annex,
        "open": app.state == scoring.SCORING_STATE,
        "scored": total - len(scoring.missing_results(checklist, app.kind, answers)),
        "total": total,
        "submitted_at": sheet.submitted_at if sheet is not None else None,
        "signed_name": sheet.signed_name if sheet is not None else None,
    }
