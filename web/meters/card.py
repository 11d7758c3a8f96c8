"""The meter-evidence card on an application's page: the latest snapshot's figures, the declared against the
metered, the pictures, and for the agency's coordinator a fresh snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from meters import figures, snapshots
from meters.rules import rules
from web.core.pages import check_name, lang, local_time
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application

CHART_LABELS = {
    "daily": _l("Daily consumption"),
    "completeness": _l("Completeness"),
    "gaps": _l("Gaps"),
    "pue": _l("PUE by month"),
}
TAKERS = snapshots.TAKERS


class FreshSnapshotForm(FlaskForm):
    """The coordinator's button: the CSRF token is all it carries."""


def _completion(app: Application, stable: dict[str, Any] | None, period_end: dt.date, days: int) -> dict[str, Any]:
    """Whether the data confirm the form's completion date: six months of stable running since it."""
    raw = (app.form or {}).get("completion_date")
    try:
        completed = dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        completed = None
    if completed is None or stable is None:
        return {"declared": raw or None, "confirmed": None}
    ran = (period_end - completed).days + 1
    return {"declared": completed.isoformat(), "ran": ran, "confirmed": bool(stable["passed"]) and ran >= days}


def evidence_card(app: Application, definition: Definition, user: User, **_: Any) -> dict[str, Any] | None:
    """The latest snapshot of the (visible) application; None until one is taken, unless the reader may take one."""
    frozen = snapshots.latest(db.session, app.id)
    # A fresh one once the verification has begun (the first is taken as it begins).
    may_take = user.role in TAKERS and (frozen is not None or app.state in rules().snapshot_on)
    if frozen is None and not may_take:
        return None
    card: dict[str, Any] = {"may_take": may_take, "form": FreshSnapshotForm(prefix="evidence") if may_take else None}
    card["take_url"] = url_for("meter_pages.take_snapshot", application_id=app.id)
    if frozen is None:
        return {**card, "snapshot": None}
    results = {r["check"]: r for r in frozen.results}
    rows = [
        {
            "check": r["check"],
            "label": check_name(r["check"]),
            "value": r["value"],
            "threshold": r["threshold"],
            "passed": r["passed"],
        }
        for r in frozen.results
    ]
    annual = results.get("ANNUAL_TCE", {}).get("details", {})
    stable = results.get("STABLE_RUN_6M")
    charts = [
        {
            "label": CHART_LABELS[name],
            "url": url_for(
                "meter_pages.evidence_chart", application_id=app.id, snapshot_id=frozen.id, chart=name, fmt="svg"
            ),
        }
        for name in ("daily", "completeness", "gaps", "pue")
        if name in figures.available(frozen.figures or {})
    ]
    return {
        **card,
        "snapshot": {
            "id": frozen.id,
            "from": frozen.period_start.isoformat(),
            "to": frozen.period_end.isoformat(),
            "taken_at": local_time(frozen.taken_at),
            "taken_by": frozen.taken_by,
            "rules": frozen.rules,
            "sha256": frozen.sha256,
        },
        "rows": rows,
        "declared_tce": annual.get("declared"),
        "metered_tce": results.get("ANNUAL_TCE", {}).get("value"),
        "tce_difference": annual.get("difference"),
        "completion": _completion(app, stable, frozen.period_end, 183 if stable is None else int(stable["threshold"])),
        "charts": charts,
        "lang": lang(),
    }
