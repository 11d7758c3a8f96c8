"""The application form as a task list: one page per section, each saved on its own (nothing typed is lost), the
rules' problems in a summary at the top that links to each field and beside the field itself (the GOV.UK pattern).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required
from werkzeug.routing import BuildError

from forms import sections as S
from forms.fields import FormVersion, form_version
from forms.rules import computed, validate
from web.applications.blueprints import pages as bp
from web.applications.form_fields import form_class, from_form_data, to_form_data
from web.applications.form_tasks import section_url, task_list
from web.core.actor import me
from web.core.pages import commit_reads, lang
from workflow import operations
from workflow.db import db
from workflow.definitions import Definition
from workflow.errors import NotAllowedNow, NotFound, StaleVersion, WorkflowError
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions

RATIO_LABELS = {
    "tier1_access_ratio": ("一级表具接入率", "Tier-1 access ratio"),
    "tier2_access_ratio": ("二级表具接入率", "Tier-2 access ratio"),
    "tier3_access_ratio": ("三级表具接入率", "Tier-3 access ratio"),
    "park_connected_share": ("接入平台的2000tce以上企业占比", "Share of ≥ 2000 tce enterprises connected"),
    "park_energy_share": ("接入平台企业能耗占比", "Connected enterprises' share of park energy"),
}
RATIO_INPUTS = ("tier1_points", "park_large_enterprises")  # a section with these shows the ratios worked out

# Fields the organisation record already holds (workflow.accounts.Organisation): form key → the record's attribute.
FROM_ORGANISATION = {"unit_name": "name", "uscc": "uscc", "district": "district"}


def _editable(application_id: int) -> tuple[Application, Definition]:
    user = me()
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    definition = programme_definitions(db.session)[app.programme_version_id]
    if user.role != "applicant" or app.state not in definition.editable:
        flash(gettext("The form can only be edited by the applicant while it is a draft or returned."), "error")
        abort(redirect(url_for("applications.application", application_id=app.id), 303))
    return app, definition


def _ratios(version: FormVersion, app: Application) -> dict[str, str]:
    return {
        RATIO_LABELS[k][0 if lang() == "zh" else 1]: v
        for k, v in computed(version, app.kind, app.form or {}).items()
        if v is not None
    }


def _mark_problems(version: FormVersion, app: Application, page_form: Any) -> list[dict[str, str]]:
    """The saved draft's problems beside their fields, and as the error summary's links (in the page's order)."""
    for problem in validate(version, app.kind, app.form or {}, complete=False, lang=lang()):
        target = getattr(page_form, problem.field, None)
        if target is not None:
            target.errors = [*target.errors, problem.message]
    return [
        {"id": f.id, "message": message}
        for f in page_form
        if f.type not in ("HiddenField", "CSRFTokenField")
        for message in f.errors
    ]


def _problem_count(version: FormVersion, app: Application, keys: Collection[str] | None = None) -> int:
    """How many fields (of `keys`, or of the whole form) hold a value the rules do not accept."""
    problems = validate(version, app.kind, app.form or {}, complete=False, lang=lang())
    return len({p.field for p in problems if keys is None or p.field in keys})


def _say_saved(count: int) -> None:
    if count:
        flash(ngettext("Saved, but %(num)s answer needs your attention: see below.",
                       "Saved, but %(num)s answers need your attention: see below.", count), "warning")  # fmt: skip
    else:
        flash(gettext("Saved."), "success")


def _section(version: FormVersion, app: Application, slug: str) -> tuple[S.Section, S.Section | None]:
    """The section at `slug` and the one after it (None after the last)."""
    parts = S.sections(version, app.kind)
    for i, part in enumerate(parts):
        if part.slug == slug:
            return part, parts[i + 1] if i + 1 < len(parts) else None
    abort(404)


def _check_answers_url(app: Application) -> str:
    """H1's check-your-answers page, or the application's page where that page does not exist."""
    try:
        return url_for("applications.check_answers", application_id=app.id)
    except BuildError:
        return url_for("applications.application", application_id=app.id)


def _prefill(app: Application, data: dict[str, Any], keys: Collection[str]) -> list[str]:
    """Fill the empty fields the organisation record already holds; the keys filled so."""
    org = app.organisation
    done = []
    for key, attribute in FROM_ORGANISATION.items():
        value = getattr(org, attribute, None) if org is not None else None
        if key in keys and not S.filled((app.form or {}).get(key)) and value:
            data[key] = value
            done.append(key)
    return done


def _render_fields(
    app: Application,
    version: FormVersion,
    page_form: Any,
    *,
    title: str,
    action: str,
    groups: list[tuple[str, list[str]]],
    status: int = 200,
    prefilled: Collection[str] = (),
    last: bool = False,
) -> tuple[str, int]:
    keys = [key for _, part in groups for key in part]
    return render_template(
        "form_section.html",
        app=app,
        form=page_form,
        title=title,
        action=action,
        groups=groups,
        errors=_mark_problems(version, app, page_form),
        prefilled=set(prefilled),
        last=last,
        ratios=_ratios(version, app) if any(k in keys for k in RATIO_INPUTS) else {},
    ), status


# --- the task list ----------------------------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/form", methods=["GET"])
@login_required
def application_form(application_id: int) -> Any:
    app, definition = _editable(application_id)
    version = form_version(definition.form)
    return render_template(
        "application_form.html",
        app=app,
        state_label=definition.state_label(app.state, lang()),
        ratios=_ratios(version, app),
        continue_url=_check_answers_url(app),
        **task_list(app, definition, version, me()),
    )


@bp.route("/applications/<int:application_id>/form", methods=["POST"])
@login_required
def save_application_form(application_id: int) -> Any:
    """The whole form at once (the one-page form of before; clients and tests post it): every field is replaced."""
    app, definition = _editable(application_id)
    version = form_version(definition.form)
    # CSRFProtect has checked the token before this view runs; the rules judge the values after the save,
    # so nothing the applicant typed is refused here.
    page_form = form_class(version, app.kind, lang())()
    data = to_form_data(version, app.kind, page_form)
    expected = int(page_form.expected_version.data or 0) or None
    commit_reads()
    try:
        saved = operations.update_draft(me().id, application_id, data, expected, request_id=g.request_id)
    except StaleVersion:
        return _stale(application_id, app, version, page_form)
    except (NotFound, NotAllowedNow, WorkflowError) as exc:
        flash(exc.detail, "error")
        return redirect(url_for("applications.application", application_id=application_id), 303)
    _say_saved(_problem_count(version, saved))
    return redirect(url_for("applications.application_form", application_id=application_id), 303)


def _stale(
    application_id: int,
    app: Application,
    version: FormVersion,
    page_form: Any,
    section: S.Section | None = None,
) -> tuple[str, int]:
    flash(gettext("Someone else changed this application since you opened it; your entries are shown, "
                  "check them and save again."), "error")  # fmt: skip
    fresh = get_visible(db.session, me(), application_id) or app
    page_form.expected_version.data = fresh.version
    if section is None:
        groups = [(s.title(lang()), list(s.keys)) for s in S.sections(version, fresh.kind)]
        action = url_for("applications.save_application_form", application_id=application_id)
        return _render_fields(fresh, version, page_form, title=gettext("Application form"), action=action,
                              groups=groups, status=409)  # fmt: skip
    action = section_url(fresh, section)
    return _render_fields(fresh, version, page_form, title=section.title(lang()), action=action,
                          groups=[("", list(section.keys))], status=409)  # fmt: skip


# --- one section ------------------------------------------------------------------------------------------------


@bp.route("/applications/<int:application_id>/form/<section>", methods=["GET"])
@login_required
def form_section(application_id: int, section: str) -> Any:
    app, definition = _editable(application_id)
    version = form_version(definition.form)
    part, after = _section(version, app, section)
    data = from_form_data(version, app.kind, app.form or {}, part.keys)
    prefilled = _prefill(app, data, part.keys)
    page_form = form_class(version, app.kind, lang(), part.keys)(formdata=None, data=data)
    page_form.expected_version.data = app.version
    return _render_fields(app, version, page_form, title=part.title(lang()), action=section_url(app, part),
                          groups=[("", list(part.keys))], prefilled=prefilled, last=after is None)  # fmt: skip


@bp.route("/applications/<int:application_id>/form/<section>", methods=["POST"])
@login_required
def save_form_section(application_id: int, section: str) -> Any:
    """Only this section's fields are merged into the form; the other sections keep what they hold."""
    app, definition = _editable(application_id)
    version = form_version(definition.form)
    part, after = _section(version, app, section)
    page_form = form_class(version, app.kind, lang(), part.keys)()
    data = to_form_data(version, app.kind, page_form, part.keys)
    expected = int(page_form.expected_version.data or 0) or None
    commit_reads()
    try:
        saved = operations.update_draft(me().id, application_id, data, expected, request_id=g.request_id)
    except StaleVersion:
        return _stale(application_id, app, version, page_form, section=part)
    except (NotFound, NotAllowedNow, WorkflowError) as exc:
        flash(exc.detail, "error")
        return redirect(url_for("applications.application", application_id=application_id), 303)
    count = _problem_count(version, saved, part.keys)
    _say_saved(count)
    if count:
        return redirect(section_url(saved, part), 303)  # the summary at the top names each answer to correct
    if request.form.get("then") == "list":
        return redirect(url_for("applications.application_form", application_id=application_id), 303)
    return redirect(section_url(saved, after) if after else _check_answers_url(saved), 303)
