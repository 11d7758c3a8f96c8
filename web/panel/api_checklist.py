"""Checklist API: the expert's sheet, photos, submission, and the panel's consensus.

Who may do what (the OpenAPI document says the same):

- the sheet (`/checklist`, its photos and its submission): only an expert on the panel who has declared no
  conflict of interest, and only their own sheet; 404 for anyone else, exactly as for a missing application;
- a photo (`/checklist-photos/{id}`): the panel's experts (their own photos, the others' once their own sheet
  is submitted), the municipal reviewer, the agency coordinator, admin and auditor, each only where they may
  see the application; 404 for everyone else (applicants, district reviewers, finance);
- the consensus: anyone who may see the application except the applicant (403); an expert who has not
  submitted their own sheet sees who has submitted, but no one's results (`withheld`), so no one is swayed.

The leader concludes through POST /applications/{id}/transitions (`conclude_pass` / `conclude_fail`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for

from review import consensus, photos, scoring
from review.models import ChecklistPhoto
from web.core import input_guard
from web.core.actor import me, visible_or_404
from web.core.api import MAX_ID
from web.core.extensions import blob_store
from web.core.problems import ApiProblem, json_body, language, read_body
from web.panel.blueprints import api as bp
from workflow.db import db
from workflow.errors import Forbidden, InvalidInput, NotFound, Problem

MULTIPART_OVERHEAD = 64 * 1024  # the framing and the small fields around the photo
SUBMIT_FIELDS = ("signature_png_base64", "signed_name", "confirm")
DATA_URL_PREFIX = "data:image/png;base64,"  # what a canvas's toDataURL() gives


def _photo_url(photo_id: int) -> str:
    return url_for("api.panel.checklist_photo", photo_id=photo_id)


def _with_photo_urls(sheet: dict[str, Any]) -> dict[str, Any]:
    for category in sheet["categories"]:
        for criterion in category["criteria"]:
            for photo in criterion["photos"]:
                photo["download_url"] = _photo_url(photo["id"])
    return sheet


@bp.get("/applications/<int:application_id>/checklist")
def get_checklist(application_id: int) -> Response:
    """The caller's own checklist sheet: every criterion with their result, score, note, revision and photos."""
    return jsonify(_with_photo_urls(scoring.view_sheet(me(), application_id, language())))


@bp.put("/applications/<int:application_id>/checklist")
def save_checklist(application_id: int) -> Response:
    """Save some results; one changed on the server since its `base_revision` is returned as a conflict."""
    body = read_body({"results": list}, required=("results",))
    outcome, sheet = scoring.save_answers(
        me(), application_id, body["results"], request_id=g.request_id, lang=language()
    )
    return jsonify(
        saved=outcome.saved,
        unchanged=outcome.unchanged,
        conflicts=outcome.conflicts,
        sheet=_with_photo_urls(sheet),
    )


def _form_value(name: str, parse: Any, problems: list[Problem], what: str) -> Any:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse(raw)
    except (ValueError, OverflowError):
        problems.append(Problem(name, "invalid", f"'{name}' must be {what}; got {raw!r}"))
        return None
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(Problem(name, "invalid", f"'{name}' must be {what}; got {raw!r}"))
        return None
    return value


def _iso_time(raw: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("no time zone")  # the device's local time is ambiguous without one
    return value


@bp.post("/applications/<int:application_id>/checklist/photos")
def upload_checklist_photo(application_id: int) -> Response:
    """Keep a JPEG or PNG as evidence for one criterion; the same `client_id` again answers 200 with the first."""
    if request.mimetype != "multipart/form-data":
        raise ApiProblem(
            415, "unsupported_media_type", "send multipart/form-data with 'photo', 'criterion', 'client_id'"
        )
    # This route only: a photo may be larger than other bodies, and no larger than scoring keeps.
    request.max_content_length = photos.PHOTO_MAX_BYTES + MULTIPART_OVERHEAD
    problems: list[Problem] = input_guard.form_problems(request.form)  # multipart: the guard left it to us
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    upload = request.files.get("photo")
    if upload is None:
        problems.append(Problem("photo", "required", "attach the photo as the part 'photo'"))
    criterion = request.form.get("criterion", "").strip()
    if not criterion:
        problems.append(Problem("criterion", "required", "name the criterion the photo is evidence for"))
    client_id = request.form.get("client_id", "").strip()
    if not client_id:
        problems.append(
            Problem("client_id", "required", "client_id names the photo on the device (a retry repeats it)")
        )
    taken_at = _form_value("taken_at", _iso_time, problems, "an ISO 8601 time with its offset")
    latitude = _form_value("latitude", float, problems, "a number of degrees")
    longitude = _form_value("longitude", float, problems, "a number of degrees")
    accuracy_m = _form_value("accuracy_m", float, problems, "a number of metres")
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    assert upload is not None
    data = upload.read(photos.PHOTO_MAX_BYTES + 1)
    photo, created = photos.keep_photo(
        me(),
        application_id,
        criterion,
        data,
        blob_store(current_app),
        client_id=client_id,
        taken_at=taken_at,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        request_id=g.request_id,
    )
    response = jsonify({**scoring.photo_json(photo), "download_url": _photo_url(photo.id)})
    response.status_code = 201 if created else 200
    response.headers["Location"] = _photo_url(photo.id)
    return response


@bp.get("/checklist-photos/<int:photo_id>")
def checklist_photo(photo_id: int) -> Response:
    """A checklist photo, always as a download, for those the module docstring names; each download audited."""
    if photo_id > MAX_ID:
        raise NotFound(f"photo {photo_id} not found")
    actor = me().id
    db.session.commit()  # the view's read transaction ends before the audit's write (SQLite allows one writer)
    return _photo_response(photos.opened(actor, photo_id, "download", request_id=g.request_id))


def _photo_response(photo: ChecklistPhoto) -> Response:
    chunks = blob_store(current_app).open(photo.blob_key)
    first = next(chunks, b"")  # a missing blob fails here, before any header is sent

    def stream() -> Iterator[bytes]:
        yield first
        yield from chunks

    response = Response(stream(), content_type=photo.content_type, direct_passthrough=True)
    response.content_length = photo.size
    extension = "png" if photo.content_type == "image/png" else "jpg"
    response.headers["Content-Disposition"] = f'attachment; filename="checklist-photo-{photo.id}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(photo.sha256)
    return response


def _signature(raw: Any) -> bytes:
    """The drawn signature from base64 (a `data:image/png;base64,` URL too); empty when none was sent."""
    if raw is None or raw == "":
        return b""
    if not isinstance(raw, str):
        raise InvalidInput(
            "signature_png_base64 must be a string",
            [Problem("signature_png_base64", "wrong_type", "signature_png_base64 must be base64 text")],
        )
    text = raw.strip().removeprefix(DATA_URL_PREFIX)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        message = "signature_png_base64 is not valid base64"
        raise InvalidInput(message, [Problem("signature_png_base64", "invalid_base64", message)]) from None


@bp.post("/applications/<int:application_id>/checklist/submit")
def submit_checklist(application_id: int) -> Response:
    """Sign and submit the caller's sheet: 422 names every criterion without a result; final after."""
    body = json_body()
    unknown = [
        Problem(name, "unknown_field", f"'{name}' is not a field here; expected: {', '.join(SUBMIT_FIELDS)}")
        for name in body
        if name not in SUBMIT_FIELDS
    ]
    if unknown:
        raise InvalidInput("; ".join(p.message for p in unknown), unknown)
    sheet = scoring.submit_sheet(
        me(),
        application_id,
        _signature(body.get("signature_png_base64")),
        body.get("signed_name", ""),
        body.get("confirm") is True,
        blob_store(current_app),
        request_id=g.request_id,
        lang=language(),
    )
    return jsonify(_with_photo_urls(sheet))


@bp.get("/applications/<int:application_id>/consensus")
def get_consensus(application_id: int) -> Response:
    """The panel's results side by side, with agreement per criterion and category and each expert's finding."""
    app, _definition = visible_or_404(application_id)
    user = me()
    if user.role == "applicant":
        raise Forbidden("the applicant does not see the panel's working; the conclusion is recorded on the application")
    return jsonify(consensus.consensus_for(db.session(), user, app, language()))
