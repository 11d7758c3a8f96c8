"""The application form page: save a draft at any time (nothing typed is lost), see what the rules say per field."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from forms.fields import form_version
from forms.rules import computed, validate
from web.applications.blueprints import pages as bp
from web.applications.form_fields import form_class, from_form_data, sections_of, to_form_data
from web.core.actor import me
from web.core.pages import commit_reads, lang
from workflow import operations
from workflow.db import db
from workflow.errors import NotAllowedNow, NotFound, StaleVersion, WorkflowError
from workflow.visibility import get_visible, programme_definitions

RATIO_LABELS = {
    "tier1_access_ratio": ("一级表具接入率", "Tier-1 access ratio"),
    "tier2_access_ratio": ("二级表具接入率", "Tier-2 access ratio"),
    "tier3_access_ratio": ("三级表具接入率", "Tier-3 access ratio"),
    "park_connected_share": ("接入平台的2000tce以上企业占比", "Share of ≥ 2000 tce enterprises connected"),
    "park_energy_share": ("接入平台企业能耗占比", "Connected enterprises' share of park energy"),
}


def _editable(application_id: int) -> tuple[Any, Any]:
    user = me()
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    definition = programme_definitions(db.session)[app.programme_version_id]
    if user.role != "applicant" or app.state not in definition.editable:
        flash(gettext("The form can only be edited by the applicant while it is a draft or returned."), "error")
        abort(redirect(url_for("applications.application", application_id=app.id), 303))
    return app, definition


def _render(app: Any, definition: Any, page_form: Any, status: int = 200) -> tuple[str, int]:
    version = form_version(definition.form)
    saved = app.form or {}
    for problem in validate(version, app.kind, saved, complete=False, lang=lang()):
        target = getattr(page_form, problem.field, None)
        if target is not None:
            target.errors = [*target.errors, problem.message]
    still_needed = [p.message for p in validate(version, app.kind, saved, complete=True, lang=lang())
                    if p.code == "required"]  # fmt: skip
    return render_template(
        "application_form.html",
        app=app,
        form=page_form,
        sections=sections_of(version, app.kind, lang()),
        still_needed=still_needed,
        ratios={
            RATIO_LABELS[k][0 if lang() == "zh" else 1]: v
            for k, v in computed(version, app.kind, saved).items()
            if v is not None
        },
        state_label=definition.state_label(app.state, lang()),
    ), status


@bp.route("/applications/<int:application_id>/form", methods=["GET"])
@login_required
def application_form(application_id: int) -> Any:
    app, definition = _editable(application_id)
    version = form_version(definition.form)
    page_form = form_class(version, app.kind, lang())(formdata=None, data=from_form_data(version, app.kind, app.form))
    page_form.expected_version.data = app.version
    return _render(app, definition, page_form)


@bp.route("/applications/<int:application_id>/form", methods=["POST"])
@login_required
def save_application_form(application_id: int) -> Any:
    app, definition = _editable(application_id)
    version = form_version(definition.form)
    # CSRFProtect has checked the token before this view runs; the rules judge the values after the save,
    # so nothing the applicant typed is refused here.
    page_form = form_class(version, app.kind, lang())()
    data = to_form_data(version, app.kind, page_form)
    expected = int(page_form.expected_version.data or 0) or None
    commit_reads()
    try:
        operations.update_draft(me().id, application_id, data, expected, request_id=g.request_id)
    except StaleVersion:
        flash(gettext("Someone else changed this application since you opened it; your entries are shown, "
                      "check them and save again."), "error")  # fmt: skip
        fresh = get_visible(db.session, me(), application_id)
        page_form.expected_version.data = fresh.version if fresh else expected
        return _render(fresh or app, definition, page_form, 409)
    except (NotFound, NotAllowedNow, WorkflowError) as exc:
        flash(exc.detail, "error")
        return redirect(url_for("applications.application", application_id=application_id), 303)
    flash(gettext("Draft saved."), "success")
    return redirect(url_for("applications.application_form", application_id=application_id), 303)
