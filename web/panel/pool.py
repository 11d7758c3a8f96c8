"""The expert pool page: administrators and the agency's coordinators list, filter and add experts."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from review import pool as expert_pool
from web.core.pages import commit_reads
from web.panel.blueprints import pages as bp
from web.panel.page_helpers import forbid_unless, show_problems
from web.panel.serializers import profile_json
from workflow.accounts import DISTRICTS
from workflow.db import db
from workflow.errors import InvalidInput

POOL_KEEPERS = ("admin", "agency_coordinator")
SPECIALITY_SEPARATORS = re.compile(r"[,，、;；\n]+")


class ExpertForm(FlaskForm):
    username = StringField(_l("Username of the expert's account"), render_kw={"autocapitalize": "none"})
    employer_name = StringField(_l("Employer"), validators=[Length(max=expert_pool.NAME_MAX)])
    employer_uscc = StringField(_l("Employer's unified social credit code"), render_kw={"maxlength": 18})
    district = SelectField(_l("District"), choices=[SelectChoice("", "—"), *(SelectChoice(d, d) for d in DISTRICTS)])
    specialities = StringField(_l("Specialities (separate with 、 or commas)"))

    def speciality_list(self) -> list[str]:
        return [s for s in SPECIALITY_SEPARATORS.split(self.specialities.data or "") if s.strip()]


def listed() -> tuple[list[dict[str, Any]], str, str]:
    """The pool with the request's filters (district, speciality), and the filters as taken. The page and its
    export share it, so the export holds the rows the page shows."""
    wanted_district = request.args.get("district", "")
    wanted_speciality = request.args.get("speciality", "").strip()
    rows = expert_pool.experts(
        db.session(), wanted_district if wanted_district in DISTRICTS else None, wanted_speciality or None
    )
    pool = [{**profile_json(row), "ties": expert_pool.relationships_of(db.session(), row.user_id)} for row in rows]
    return pool, wanted_district, wanted_speciality


def _render_experts(form: ExpertForm | None = None, status: int = 200) -> tuple[str, int]:
    pool, wanted_district, wanted_speciality = listed()
    return render_template(
        "experts.html",
        pool=pool,
        districts=DISTRICTS,
        wanted_district=wanted_district,
        wanted_speciality=wanted_speciality,
        form=form or ExpertForm(formdata=None, prefix="expert"),
    ), status


@bp.route("/experts", methods=["GET"])
@login_required
def experts() -> Any:
    """The expert pool (administrators and the agency's coordinators), with filters and the add-expert form."""
    forbid_unless(*POOL_KEEPERS)
    return _render_experts()


@bp.route("/experts", methods=["POST"])
@login_required
def add_expert() -> Response | tuple[str, int]:
    """Put an expert account in the pool or update its profile (the same checks as `manage.py experts add`)."""
    user = forbid_unless(*POOL_KEEPERS)
    form = ExpertForm(prefix="expert")
    if not form.validate_on_submit():
        flash(gettext("Please correct the marked fields."), "error")
        return _render_experts(form, 422)
    commit_reads()
    try:
        profile = expert_pool.add_expert(
            user.id,
            (form.username.data or "").strip(),
            form.employer_uscc.data or "",
            form.employer_name.data or "",
            form.district.data or "",
            form.speciality_list(),
            g.request_id,
        )
    except InvalidInput as exc:
        for text in show_problems(form, exc.problems):
            flash(text, "error")
        flash(gettext("Please correct the marked fields."), "error")
        return _render_experts(form, 422)
    flash(gettext("%(user)s is in the expert pool.", user=profile.user.username), "success")
    return redirect(url_for("panel.experts"), 303)
