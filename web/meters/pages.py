"""The meters area's pages: the evidence pictures beside the criteria on the expert's tablet."""

from __future__ import annotations

from flask_login import login_required
from werkzeug.wrappers import Response

from web.meters.blueprints import pages as bp
from web.meters.charts import chart_response


@bp.get("/applications/<int:application_id>/evidence/<int:snapshot_id>/charts/<chart>.<fmt>")
@login_required
def evidence_chart(application_id: int, snapshot_id: int, chart: str, fmt: str) -> Response:
    """A picture of the snapshot's frozen figures (the tablet keeps it with the sheet for the visit offline)."""
    return chart_response(application_id, snapshot_id, chart, fmt)
