"""The panel's lists as .xlsx (issue 15 item 8): the expert pool with the page's filters, and an expert's own panel
seats — the rows their pages show, from the same queries."""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext
from flask_login import login_required

from review import panels
from storage import sheets
from web.core.actor import me
from web.core.api import xlsx_response
from web.core.page_forms import N_
from web.core.pages import local_time
from web.panel import pool
from web.panel.blueprints import pages as bp
from web.panel.page_helpers import forbid_unless
from web.panel.pages import _local
from workflow.db import db, utcnow


def _sheet(name: str, filters: list[str], header: tuple[str, ...], rows: list[list[Any]], filename: str) -> Any:
    title = f"{gettext(name)}（{'; '.join(filters) or gettext('all you may see')}；{local_time(utcnow())}）"
    out = io.BytesIO()
    sheets.write(out, gettext(name), title, [gettext(h) for h in header], rows)
    return xlsx_response(out.getvalue(), filename)


@bp.route("/experts.xlsx")
@login_required
def experts_export() -> Any:
    """The expert pool as the page lists it, with its filters, as .xlsx."""
    forbid_unless(*pool.POOL_KEEPERS)
    found, district, speciality = pool.listed()
    rows = [
        [
            e["name"],
            e["employer_name"],
            e["employer_uscc"],
            e["district"] or "",
            "、".join(e["specialities"]),
            gettext("yes") if e["active"] else gettext("no"),
            "；".join(f"{t['name'] or t['uscc']} ({t['uscc']})" for t in e["ties"]),
        ]
        for e in found
    ]
    header = (
        N_("Name"),
        N_("Employer"),
        N_("Employer's unified social credit code"),
        N_("District"),
        N_("Specialities"),
        N_("May be drawn"),
        N_("Declared ties"),
    )
    filters = [f"{k}={v}" for k, v in (("district", district), ("speciality", speciality)) if v]
    return _sheet(N_("Expert pool"), filters, header, rows, "experts.xlsx")


def _declaration(seat: dict[str, Any]) -> str:
    if seat["conflict"]:
        return gettext("Conflict of interest declared")
    if seat["declared"]:
        return gettext("No conflict of interest")
    return gettext("Waiting for your declaration.") if seat["pending"] else gettext("Not declared.")


@bp.route("/assignments.xlsx")
@login_required
def assignments_export() -> Any:
    """An expert's panel seats as the page lists them, as .xlsx."""
    forbid_unless("expert")
    rows = []
    for seat in panels.assignments_of(db.session(), me()):
        visit = seat["visit"]
        rows.append(
            [
                seat["application_id"],
                seat["project_name"],
                seat["organisation"],
                seat["organisation_uscc"],
                seat["district"] or "",
                gettext("yes") if seat["leader"] else "",
                _local(visit["visit_at"]) if visit else "",
                visit["place"] if visit else "",
                _declaration(seat),
                _local(seat["declared_at"]),
            ]
        )
    header = (
        N_("Number"),
        N_("Project"),
        N_("Applicant"),
        N_("Unified social credit code"),
        N_("District"),
        N_("leader"),
        N_("Site visit"),
        N_("Place"),
        N_("Declaration"),
        N_("Declared"),
    )
    return _sheet(N_("My panel assignments"), [], header, rows, "assignments.xlsx")
