"""Meter readings pushed by a unit's access-end system: idempotent by meter and time, refusals named by index."""

from __future__ import annotations

from flask import Response, g, jsonify

from meters import ingest
from web.core.actor import me
from web.core.problems import read_body
from web.meters.blueprints import api as bp


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
