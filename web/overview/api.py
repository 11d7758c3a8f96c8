"""The overview API: the commission's figures as JSON."""

from __future__ import annotations

from flask import Response, jsonify

from web.core.actor import me
from web.core.problems import ApiProblem
from web.overview.blueprints import api as bp
from web.overview.figures import as_json, figures, may_read


@bp.get("/overview")
def overview_api() -> Response:
    """Applications by programme, state and district, each desk's waiting, supplements, verdicts, budgets."""
    user = me()
    if not may_read(user):
        raise ApiProblem(403, "forbidden", "the overview is for the commission and the review desks")
    return jsonify(as_json(figures(user)))
