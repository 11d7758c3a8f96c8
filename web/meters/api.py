"""The meters API: readings pushed by a unit's access-end system, and an application's evidence snapshots."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from meters import figures, ingest, snapshots
from meters.models import EvidenceSnapshot
from web.core.actor import me, visible_or_404
from web.core.problems import ApiProblem, read_body
from web.meters.blueprints import api as bp
from web.meters.charts import chart_response
from workflow.db import db


@bp.post("/meters/readings")
def push_readings() -> Response:
    """Store a batch of the caller's unit's readings; the same batch sent again changes nothing."""
    body = read_body({"readings": list}, required=("readings",))
    result = ingest.push(me(), body["readings"], request_id=g.request_id)
    return jsonify(
        inserted=result.inserted,
        unchanged=result.unchanged,
        refused=[{"index": p.line, "field": p.column, "message": p.message} for p in result.refused],
    )


def _snapshot_json(snapshot: EvidenceSnapshot) -> dict[str, Any]:
    charts = sorted(figures.available(snapshot.figures or {}))
    return {"id": snapshot.id, **snapshots.document(snapshot), "charts": charts, "sha256": snapshot.sha256}


@bp.get("/applications/<int:application_id>/evidence")
def latest_evidence(application_id: int) -> Response:
    """The latest evidence snapshot of an application the caller may see."""
    app, _definition = visible_or_404(application_id)
    snapshot = snapshots.latest(db.session, app.id)
    if snapshot is None:
        raise ApiProblem(404, "not_found", f"no evidence snapshot of application {application_id} yet")
    return jsonify(_snapshot_json(snapshot))


@bp.post("/applications/<int:application_id>/evidence")
def take_evidence(application_id: int) -> Response:
    """Ask for a fresh snapshot (the agency's coordinator): queued, since a large unit's takes minutes."""
    seq = snapshots.request_fresh(me(), application_id, request_id=g.request_id)
    location = request.path  # the GET of the same address answers the latest snapshot once it is taken
    response = jsonify(request=seq, status="queued", latest=location)
    response.status_code = 202
    response.headers["Location"] = location
    return response


@bp.get("/applications/<int:application_id>/evidence/<int:snapshot_id>/charts/<chart>.<fmt>")
def evidence_chart(application_id: int, snapshot_id: int, chart: str, fmt: str) -> Response:
    """A picture of the snapshot's frozen figures."""
    return chart_response(application_id, snapshot_id, chart, fmt)
