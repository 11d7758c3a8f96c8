"""The commission's dashboard: applications by state and district, waiting per desk, supplements, the pass rate by
applicant kind, the budgets; two pictures drawn on the server as SVG."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template
from flask_babel import gettext
from flask_login import login_required

from review.round_summary import rounds
from web.core.actor import me
from web.core.pages import kind_label, lang, role_label
from web.overview import charts
from web.overview.blueprints import pages as bp
from web.overview.figures import figures, may_read, programme_titles, state_labels
from workflow.db import db


def _reader() -> Any:
    user = me()
    if not may_read(user):
        abort(403)
    return user


@bp.get("/overview")
@login_required
def dashboard() -> Any:
    found = figures(_reader())
    labels, titles = state_labels(lang()), programme_titles(lang())
    districts = sorted({d for cell in found.by_state.values() for d in cell}, key=lambda d: d or "")
    states = [
        {
            "programme": titles.get(code, code),
            "state": labels.get((code, state), state),
            "total": sum(cell.values()),
            "cells": [cell.get(d, 0) for d in districts],
        }
        for (code, state), cell in sorted(found.by_state.items())
    ]
    desks = [
        {
            "role": role_label(d.role),
            "count": d.count,
            "median": d.median_days,
            "worst": d.worst_days,
            "worst_application": d.worst_application,
        }
        for d in found.desks
        if d.count or d.role in ("district_reviewer", "municipal_reviewer", "finance_officer")
    ]
    verdicts = [
        {"kind": kind_label(kind), "passed": p, "failed": f, "rate": found.pass_rate(kind)}
        for kind, (p, f) in sorted(found.verdicts.items())
    ]
    return render_template(
        "overview.html",
        found=found,
        districts=[d or gettext("(none)") for d in districts],
        states=states,
        desks=desks,
        verdicts=verdicts,
        rounds=[
            {"code": d.code, "version": d.version, "title": d.title.get(lang()) or d.code, "label": d.label}
            for d in rounds(db.session)
        ],
    )


def _svg(text: str) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"  # figures of the moment, within the reader's visibility
    return response


@bp.get("/overview/states.svg")
@login_required
def states_chart() -> Response:
    found = figures(_reader())
    labels, titles = state_labels(lang()), programme_titles(lang())
    items = [(f"{labels.get(key, key[1])}", float(count)) for key, count in sorted(found.state_totals().items())]
    if len(titles) > 1:  # the same state name in two programmes: say which
        items = [
            (f"{titles.get(code, code)[:6]}·{labels.get((code, state), state)}", float(count))
            for (code, state), count in sorted(found.state_totals().items())
        ]
    return _svg(charts.bars(gettext("Applications by state"), items))


@bp.get("/overview/desks.svg")
@login_required
def desks_chart() -> Response:
    found = figures(_reader())
    items = [(role_label(d.role), float(d.median_days)) for d in found.desks if d.median_days is not None]
    return _svg(charts.bars(gettext("Median days waiting, per desk"), items, gettext(" d")))
