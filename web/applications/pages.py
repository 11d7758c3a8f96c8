"""The applications' pages: the reader's list, a new draft, one application and the decisions fired from it."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from storage import sheets
from web.applications.blueprints import pages as bp
from web.core.actor import me
from web.core.api import xlsx_response
from web.core.detail import decision_form, render_detail
from web.core.page_forms import N_, NewApplicationForm, problem_text
from web.core.pages import CAUTION_TRIGGERS, commit_reads, kind_label, lang, local_time
from workflow import operations
from workflow.accounts import User
from workflow.db import as_utc, db, utcnow
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, fire
from workflow.errors import Forbidden, GuardFailed, InvalidInput, NotAllowedNow, NotFound, StaleVersion
from workflow.models import Application, Deadline, ProgrammeVersion
from workflow.search import MAX_QUERY, search
from workflow.visibility import current_definitions, get_visible, programme_definitions, visible_applications
from workflow.workdays import SHANGHAI

PER_PAGE = 50
MAX_PAGE = 1_000_000


def _programme_choices(definitions: dict[int, Definition]) -> list[tuple[str, str]]:
    """Each programme once, under its newest version's title."""
    newest = current_definitions(definitions)
    return [(code, d.title.get(lang()) or d.title.get("zh") or code) for code, d in sorted(newest.items())]


def _state_choices(definitions: dict[int, Definition]) -> list[tuple[str, str]]:
    labels: dict[str, str] = {}
    for d in sorted(definitions.values(), key=lambda d: (d.code, -d.version)):
        for name in d.states:
            labels.setdefault(name, d.state_label(name, lang()))
    return list(labels.items())


def _new_application_form(definitions: dict[int, Definition], **kwargs: Any) -> NewApplicationForm | None:
    user = me()
    if user.role != "applicant" or user.organisation_id is None:
        return None
    form = NewApplicationForm(**kwargs)
    form.programme.choices = _programme_choices(definitions)
    kinds = dict.fromkeys(k for d in definitions.values() for k in d.applicant_kinds)
    form.kind.choices = [(k, kind_label(k)) for k in kinds]
    if not form.is_submitted() and user.organisation and user.organisation.kind in kinds:
        form.kind.data = user.organisation.kind
    return form


def _open_deadlines(application_ids: list[int]) -> dict[int, str]:
    """Each application's open deadline as the last day it may still be met, in Shanghai."""
    if not application_ids:
        return {}
    rows = db.session.execute(
        select(Deadline.application_id, Deadline.due_at).where(
            Deadline.application_id.in_(application_ids), Deadline.closed_at.is_(None)
        )
    )
    return {
        app_id: (as_utc(due_at) - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date().isoformat()
        for app_id, due_at in rows
    }


def listed(user: User, definitions: dict[int, Definition]) -> tuple[Any, tuple[str, str, str]]:
    """The list's query with the request's filters (state, programme, q) applied, newest change first; and the
    filters as taken. The page, its pages and its export share it, so the export holds the rows the page shows."""
    states, programmes = _state_choices(definitions), _programme_choices(definitions)
    wanted_state = request.args.get("state", "")
    wanted_programme = request.args.get("programme", "")
    wanted_text = request.args.get("q", "").strip()[:MAX_QUERY]
    # Visibility decides the rows; the filters only narrow what it allows.
    query = visible_applications(db.session, user).options(joinedload(Application.organisation))
    if wanted_state in dict(states):
        query = query.where(Application.state == wanted_state)
    else:
        wanted_state = ""
    if wanted_programme in dict(programmes):
        query = query.join(ProgrammeVersion, ProgrammeVersion.id == Application.programme_version_id).where(
            ProgrammeVersion.code == wanted_programme
        )
    else:
        wanted_programme = ""
    if wanted_text:
        query = search(query, wanted_text)
    query = query.order_by(Application.updated_at.desc(), Application.id.desc())
    return query, (wanted_state, wanted_programme, wanted_text)


@bp.route("/applications.xlsx")
@login_required
def export() -> Any:
    """The list as the page shows it, with its filters, every page of it, as .xlsx."""
    user = me()
    definitions = programme_definitions(db.session)
    query, (state, programme, text) = listed(user, definitions)
    filters = [f"{k}={v}" for k, v in (("state", state), ("programme", programme), ("q", text)) if v]
    title = f"{gettext('Applications')}（{'; '.join(filters) or gettext('all you may see')}；{local_time(utcnow())}）"
    words = (
        N_("Number"),
        N_("Project"),
        N_("Organisation"),
        N_("District"),
        N_("Programme"),
        N_("Applicant kind"),
        N_("State"),
        N_("Last change"),
        N_("Reference number"),
    )
    header = [gettext(w) for w in words]

    def rows() -> Any:
        for app in db.session.scalars(query.execution_options(yield_per=500)):
            definition = definitions[app.programme_version_id]
            yield [
                app.id,
                app.project_name,
                app.organisation.name,
                app.district or "",
                definition.title.get(lang()) or definition.code,
                kind_label(app.kind),
                definition.state_label(app.state, lang()),
                local_time(app.updated_at),
                app.reference or "",
            ]

    out = io.BytesIO()
    sheets.write(out, gettext("Applications"), title, header, rows())
    return xlsx_response(out.getvalue(), "applications.xlsx")


def _render_list(new_form: NewApplicationForm | None = None, status: int = 200) -> tuple[str, int]:
    user = me()
    definitions = programme_definitions(db.session)
    programmes = _programme_choices(definitions)
    states = _state_choices(definitions)
    try:
        # Bounded: page 10**20 made an offset PostgreSQL cannot take (500).
        page = min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
    except ValueError:
        page = 1
    query, (wanted_state, wanted_programme, wanted_text) = listed(user, definitions)
    rows = list(db.session.scalars(query.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)))
    due = _open_deadlines([app.id for app in rows[:PER_PAGE]])
    applications = []
    for app in rows[:PER_PAGE]:
        definition = definitions[app.programme_version_id]
        expected = [t for t in allowed_triggers(db.session, app, user, definition) if t not in CAUTION_TRIGGERS]
        applications.append(
            {
                "id": app.id,
                "reference": app.reference,
                "project_name": app.project_name,
                "state": app.state,
                "state_label": definition.state_label(app.state, lang()),
                "programme": definition.title.get(lang()) or definition.code,
                "kind": kind_label(app.kind),
                "organisation": app.organisation.name,
                "district": app.district or "",
                "updated": local_time(app.updated_at),
                # What is expected of the reader, and by when (a supplement's last day, Shanghai time).
                "your_turn": [definition.trigger_label(t, lang()) for t in expected],
                "due": due.get(app.id),
            }
        )
    if new_form is None:
        new_form = _new_application_form(definitions)
    page_args = {"state": wanted_state or None, "programme": wanted_programme or None, "q": wanted_text or None}
    return render_template(
        "applications.html",
        applications=applications,
        states=states,
        programmes=programmes,
        wanted_state=wanted_state,
        wanted_programme=wanted_programme,
        wanted_text=wanted_text,
        new_form=new_form,
        previous_url=url_for(".applications", page=page - 1, **page_args) if page > 1 else None,
        next_url=url_for(".applications", page=page + 1, **page_args) if len(rows) > PER_PAGE else None,
    ), status


@bp.route("/applications", methods=["GET"])
@login_required
def applications() -> Any:
    return _render_list()


@bp.route("/applications", methods=["POST"])
@login_required
def create() -> Any:
    form = _new_application_form(programme_definitions(db.session))
    if form is None:
        abort(403)
    if not form.validate_on_submit():
        return _render_list(form, 422)
    commit_reads()
    try:
        app = operations.create_application(
            me().id, form.programme.data, form.kind.data, form.project_name.data, request_id=g.request_id
        )
    except InvalidInput as exc:
        for problem in exc.problems:
            if problem.field in form:
                form[problem.field].errors = [*form[problem.field].errors, problem_text(problem)]
        flash(gettext("The application was not created."), "error")
        return _render_list(form, 422)
    except Forbidden:
        abort(403)
    flash(gettext("Application created as a draft. Check it, then submit it."), "success")
    return redirect(url_for(".application", application_id=app.id), 303)


@bp.route("/applications/<int:application_id>")
@login_required
def application(application_id: int) -> Any:
    return render_detail(application_id)


@bp.route("/applications/<int:application_id>/transitions/<trigger>", methods=["POST"])
@login_required
def transition(application_id: int, trigger: str) -> Any:
    user = me()
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    definition = programme_definitions(db.session)[app.programme_version_id]
    form = decision_form(app, definition, trigger)
    detail_url = url_for(".application", application_id=application_id)
    if not form.validate_on_submit():
        if form.expected_version.errors:
            flash(gettext("The form was incomplete; the page has been reloaded."), "error")
            return redirect(detail_url, 303)
        flash(gettext("Please correct the marked fields."), "error")
        return render_detail(application_id, (trigger, form), 422)

    payload = form.payload()
    commit_reads()
    try:
        result = fire(
            application_id,
            trigger,
            user.id,
            payload,
            expected_version=form.expected_version.data,
            request_id=g.request_id,
        )
    except StaleVersion:
        flash(gettext("Someone else changed this application in the meantime; it has been reloaded."), "warning")
        return redirect(detail_url, 303)
    except GuardFailed as exc:
        texts = form.show_problems(exc.problems)
        label = definition.trigger_label(trigger, lang())
        flash({"title": gettext("“%(action)s” was not done:", action=label), "reasons": texts}, "error")
        return render_detail(application_id, (trigger, form), 422)
    except NotAllowedNow as exc:
        state = definition.state_label(exc.state, lang())
        flash(gettext("This cannot be done while the application is “%(state)s”.", state=state), "error")
        return redirect(detail_url, 303)
    except NotFound:
        abort(404)
    except Forbidden as exc:
        abort(403, description=exc.detail)
    flash(
        gettext(
            "“%(action)s” done: the application is now “%(state)s”.",
            action=definition.trigger_label(trigger, lang()),
            state=definition.state_label(result.state, lang()),
        ),
        "success",
    )
    return redirect(detail_url, 303)
