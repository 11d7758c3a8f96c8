"""The evidence pictures over HTTP, for the expert's tablet (page session) and the API (bearer token) alike."""

from __future__ import annotations

from flask import Response
from sqlalchemy import select

from meters import charts
from meters.models import EvidenceSnapshot
from web.core.actor import visible_or_404
from workflow.db import db
from workflow.errors import NotFound


def chart_response(application_id: int, snapshot_id: int, chart: str, fmt: str) -> Response:
    """The picture of a snapshot of an application the caller may see; 404 as for anything not there."""
    app, _definition = visible_or_404(application_id)
    snapshot = db.session.scalars(
        select(EvidenceSnapshot).where(EvidenceSnapshot.id == snapshot_id, EvidenceSnapshot.application_id == app.id)
    ).one_or_none()
    if snapshot is None:
        raise NotFound(f"no evidence snapshot {snapshot_id} of application {application_id}")
    try:
        body = charts.render(snapshot.figures or {}, chart, fmt)
    except charts.NoChart as exc:
        raise NotFound(str(exc)) from None
    response = Response(body, mimetype=charts.FORMATS[fmt])
    # Frozen with its snapshot: the tablet may keep it for as long as it keeps the sheet (no-store would refuse).
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["Content-Disposition"] = f'inline; filename="evidence-{snapshot_id}-{chart}.{fmt}"'
    return response
