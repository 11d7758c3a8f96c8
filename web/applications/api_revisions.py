"""Revisions over JSON: each submission as it stood, what changed since a revision, and the reader's read marker."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from applications.models import category_label
from forms.fields import form_version
from review import revisions
from review.models import Revision
from web.applications.blueprints import api as bp
from web.core.actor import me, visible_or_404
from web.core.api import MAX_ID
from web.core.problems import read_body
from workflow.db import db, iso_utc
from workflow.definitions import Definition
from workflow.errors import InvalidInput, NotFound, Problem


def field_labels(definition: Definition) -> dict[str, dict[str, str]]:
    """The form version's labels by field key, in form order (a field no longer in the form keeps its key)."""
    return {f.key: {"zh": f.zh, "en": f.en} for f in form_version(definition.form).fields}


def in_form_order(changes: list[dict[str, Any]], labels: dict[str, Any]) -> list[dict[str, Any]]:
    order = {key: n for n, key in enumerate(labels)}
    return sorted(changes, key=lambda c: (order.get(c["field"], len(order)), c["field"]))


def revision_json(row: Revision, full: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": row.number,
        "trigger": row.trigger,
        "created_at": iso_utc(row.created_at),
        "created_by": row.created_by.username if row.created_by else None,
        "event_seq": row.event_seq,
    }
    if full:
        body["form"] = row.form
        body["attachments"] = row.attachments
        body["supplement"] = row.supplement
        body["return_answers"] = row.return_answers
    return body


def _category_label(category: str) -> dict[str, str]:
    return {"zh": category_label(category, "zh"), "en": category_label(category, "en")}


@bp.get("/applications/<int:application_id>/revisions")
def list_revisions(application_id: int) -> Response:
    """Every submission of the application, oldest first, and how far the caller has read."""
    rows = revisions.revisions_of(db.session, me(), application_id)
    marker = revisions.last_read(db.session, me().id, application_id)
    return jsonify(
        items=[revision_json(r) for r in rows],
        latest=rows[-1].number if rows else 0,
        last_read=marker.number if marker else 0,
    )


@bp.get("/applications/<int:application_id>/revisions/<int:number>")
def get_revision(application_id: int, number: int) -> Response:
    """One submission as it stood: the form, the current attachments, the answers to a supplement or a return."""
    if number > MAX_ID:
        raise NotFound(f"application {application_id} has no revision {number}")
    return jsonify(revision_json(revisions.revision(db.session, me(), application_id, number), full=True))


def _since() -> int | None:
    raw = request.args.get("since")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):  # int() of 5,000 digits raises (500)
        message = f"'since' is a revision number (0 for everything); got {raw!r}"
        raise InvalidInput(message, [Problem("since", "invalid", message)])
    return int(raw)


@bp.get("/applications/<int:application_id>/changes")
def revision_changes(application_id: int) -> Response:
    """What changed from revision `since` (default: the one the caller last marked read) to the latest."""
    since = _since()
    report = revisions.changes_for(db.session, me(), application_id, since)
    _app, definition = visible_or_404(application_id)
    labels = field_labels(definition)
    form = [
        {**change, "label": labels.get(change["field"], {"zh": change["field"], "en": change["field"]})}
        for change in in_form_order(report.changes.form, labels)
    ]
    attachments = [
        {**change, "category_label": _category_label(change["category"])} for change in report.changes.attachments
    ]
    return jsonify(
        since=report.since,
        latest=report.latest,
        form=form,
        attachments=attachments,
        supplements=report.supplements,
    )


@bp.put("/applications/<int:application_id>/revisions/read")
def mark_revisions_read(application_id: int) -> Response:
    """Mark revisions up to `revision` read by the caller (a marker that never moves backwards)."""
    body = read_body({"revision": int}, required=("revision",))
    marker = revisions.mark_read(me().id, application_id, body["revision"])
    return jsonify(revision=marker.number, read_at=iso_utc(marker.read_at))
