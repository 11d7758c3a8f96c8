"""Expert panel API: draw, declarations, the visit, the verification record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app, g, jsonify, url_for

from review import panels, record, site_visit
from web.core.actor import me
from web.core.api import docx_response
from web.core.extensions import blob_store
from web.core.problems import read_body
from web.panel.blueprints import api as bp
from workflow.db import db, iso_utc
from workflow.errors import InvalidInput, Problem


def _settings() -> tuple[int, bool]:
    return int(current_app.config["PANEL_SIZE"]), bool(current_app.config["PANEL_EXCLUDE_SAME_DISTRICT"])


@bp.post("/applications/<int:application_id>/panel")
def draw_panel(application_id: int) -> Response:
    """Draw the panel (coordinator): `size` (default PANEL_SIZE) from the eligible pool, `seed` optional."""
    body = read_body({"size": int, "seed": str})
    default_size, exclude_same_district = _settings()
    draw = panels.draw_panel(
        me(),
        application_id,
        body.get("size", default_size),
        body.get("seed"),
        exclude_same_district,
        request_id=g.request_id,
    )
    response = jsonify(
        members=[{"username": name, "leader": n == 0} for n, name in enumerate(draw.drawn)],
        seed=draw.seed,
        pool_digest=draw.pool_digest,
        pool_size=len(draw.pool),
        excluded=len(draw.excluded),
        draw=draw.number,
    )
    response.status_code = 201
    response.headers["Location"] = url_for("api.panel.get_panel", application_id=application_id)
    return response


@bp.get("/applications/<int:application_id>/panel")
def get_panel(application_id: int) -> Response:
    """The panel: members (and who left on a conflict), every draw with its seed and pool digest, the visit."""
    return jsonify(panels.panel_view(db.session(), me(), application_id))


@bp.post("/applications/<int:application_id>/panel/declaration")
def declare(application_id: int) -> Response:
    """The caller, drawn onto the panel, declares on conflicts of interest (`conflict`, `note` when true)."""
    body = read_body({"conflict": object, "note": str}, required=("conflict",))
    if not isinstance(body["conflict"], bool):
        message = "'conflict' must be true or false"
        raise InvalidInput(message, [Problem("conflict", "wrong_type", message)])
    _size, exclude_same_district = _settings()
    result = panels.declare(
        me(), application_id, body["conflict"], body.get("note"), exclude_same_district, request_id=g.request_id
    )
    return jsonify(
        application_id=application_id,
        conflict=result.assignment.conflict,
        declared_at=iso_utc(result.assignment.declared_at),
        # After a conflict the file stays closed to the caller; whether the seat was filled is all they learn.
        replaced=result.replacement is not None,
    )


def _visit_time(raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        message = f"'visit_at' is an ISO date and time such as 2026-12-01T09:30+08:00; got {raw!r}"
        raise InvalidInput(message, [Problem("visit_at", "invalid_time", message)]) from None
    return value


@bp.put("/applications/<int:application_id>/visit")
def schedule_visit(application_id: int) -> Response:
    """Set or move the site visit (coordinator): `visit_at` (a time without a zone is Shanghai time), `place`."""
    body = read_body({"visit_at": str, "place": str, "note": str}, required=("visit_at", "place"))
    visit = panels.schedule_visit(
        me(),
        application_id,
        _visit_time(body["visit_at"]),
        body["place"],
        body.get("note", ""),
        request_id=g.request_id,
    )
    shown: dict[str, Any] = {
        "visit_at": iso_utc(visit.visit_at),
        "place": visit.place,
        "note": visit.note,
        "scheduled_by": me().username,
        "scheduled_at": iso_utc(visit.scheduled_at),
    }
    return jsonify(shown)


@bp.put("/applications/<int:application_id>/visit/steps")
def note_visit_steps(application_id: int) -> Response:
    """The panel leader notes what the panel heard at 汇报与现场演示 and found at 勘察提问 (from the visit's day)."""
    body = read_body({"presentation": str, "inspection": str}, required=("presentation", "inspection"))
    steps = site_visit.record_steps(
        me(), application_id, body["presentation"], body["inspection"], request_id=g.request_id
    )
    return jsonify(steps)


@bp.get("/applications/<int:application_id>/documents/verification-record")
def verification_record_document(application_id: int) -> Response:
    """The site-verification record as .docx (403 for the applicant until the panel has concluded)."""
    name, data = record.record_document(db.session(), me(), application_id, blob_store(current_app))
    return docx_response(data, name)
