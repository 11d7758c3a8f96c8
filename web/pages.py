"""HTML pages: login, the caller's applications, one application with a form for each trigger they may fire now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import Field

from forms.fields import form_rows
from review.models import SupplementRequest
from web.extensions import login_manager
from web.page_forms import (
    N_,
    LogoutForm,
    NewApplicationForm,
    TransitionForm,
    problem_text,
    transition_form,
)
from workflow import operations
from workflow.accounts import User
from workflow.db import as_utc, db
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, fire
from workflow.errors import Forbidden, GuardFailed, InvalidInput, NotAllowedNow, NotFound, StaleVersion
from workflow.models import Application, Deadline, ProgrammeVersion
from workflow.visibility import current_definitions, get_visible, programme_definitions, visible_applications
from workflow.workdays import SHANGHAI

bp = Blueprint("pages", __name__)

PER_PAGE = 50
MAX_PAGE = 1_000_000


ROLE_LABELS = {
    "applicant": _l("Applicant"),
    "district_reviewer": _l("District authority"),
    "municipal_reviewer": _l("Municipal commission"),
    "agency_coordinator": _l("Third-party agency"),
    "expert": _l("Expert"),
    "finance_officer": _l("Finance officer"),
    "monitoring_reviewer": _l("Metering institute"),
    "market_regulator": _l("Market regulator"),
    "admin": _l("Administrator"),
    "security_admin": _l("Security administrator"),
    "auditor": _l("Auditor"),
    "system": _l("System"),
}
KIND_LABELS = {
    "enterprise": _l("Industrial enterprise"),
    "data_centre": _l("Data centre"),
    "park": _l("Park"),
}
# Buttons for decisions that stop or send back an application look different from those that move it on.
CAUTION_TRIGGERS = {"reject", "withdraw", "return_for_correction", "conclude_fail", "send_back"}
LOGIN_MESSAGE = N_("Please log in to see this page.")


@bp.record_once
def _configure_login(_state: Any) -> None:
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext


# --- helpers ------------------------------------------------------------------------------------------------------


def lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def role_label(role: str | None) -> str:
    return str(ROLE_LABELS.get(role or "", role or ""))


def kind_label(kind: str | None) -> str:
    return str(KIND_LABELS.get(kind or "", kind or ""))


def local_time(value: dt.datetime | None) -> str:
    """A stored (UTC) time as Shanghai reads it."""
    if value is None:
        return ""
    return as_utc(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def safe_next(target: str | None) -> str | None:
    """`next` only when it is a path on this site (never //host or a scheme: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def commit_reads() -> None:
    """End the view's read transaction before a write, so reads after it see the write (SQLite snapshots)."""
    db.session.commit()


def lang_url(target: str) -> str:
    """This page in the other language (a page answering a POST links to where the form came from)."""
    if request.method == "GET" and request.endpoint and request.endpoint != "static":
        args = {**request.args.to_dict(), "lang": target}
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("pages.applications", lang=target)


@bp.before_app_request
def _remember_language() -> None:
    # The locale is chosen lazily, when something is translated; a ?lang= on a page that only
    # redirects would be forgotten. Choosing it now makes select_locale remember it in the session.
    if "lang" in request.args:
        get_locale()


# Pages load only this site's own script and styles (no inline code), so an injected tag cannot run.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@bp.after_app_request
def _page_security_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.app_template_test("hidden_input")
def is_hidden_input(field: Field) -> bool:
    return getattr(field.widget, "input_type", None) == "hidden"


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "lang": lang(),
        "lang_url": lang_url,
        "role_label": role_label,
        "kind_label": kind_label,
        "local_time": local_time,
        "logout_form": LogoutForm(formdata=None) if current_user.is_authenticated else None,
    }


# --- the list -----------------------------------------------------------------------------------------------------


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


def _render_list(new_form: NewApplicationForm | None = None, status: int = 200) -> tuple[str, int]:
    user = me()
    definitions = programme_definitions(db.session)
    programmes = _programme_choices(definitions)
    states = _state_choices(definitions)
    wanted_state = request.args.get("state", "")
    wanted_programme = request.args.get("programme", "")
    try:
        # Bounded: page 10**20 made an offset PostgreSQL cannot take (500).
        page = min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
    except ValueError:
        page = 1

    # Visibility decides the rows; the filters only narrow what it allows.
    query = visible_applications(db.session, user).options(joinedload(Application.organisation))
    if wanted_state in dict(states):
        query = query.where(Application.state == wanted_state)
    if wanted_programme in dict(programmes):
        query = query.join(ProgrammeVersion, ProgrammeVersion.id == Application.programme_version_id).where(
            ProgrammeVersion.code == wanted_programme
        )
    query = query.order_by(Application.updated_at.desc(), Application.id.desc())
    rows = list(db.session.scalars(query.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)))
    due = _open_deadlines([app.id for app in rows[:PER_PAGE]])
    applications = []
    for app in rows[:PER_PAGE]:
        definition = definitions[app.programme_version_id]
        expected = [t for t in allowed_triggers(db.session, app, user, definition) if t not in CAUTION_TRIGGERS]
        applications.append(
            {
                "id": app.id,
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
    page_args = {"state": wanted_state or None, "programme": wanted_programme or None}
    return render_template(
        "applications.html",
        applications=applications,
        states=states,
        programmes=programmes,
        wanted_state=wanted_state,
        wanted_programme=wanted_programme,
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


# --- one application ----------------------------------------------------------------------------------------------

# Cards other modules add to the detail page (attachments, documents, changes): name -> a function of
# (app, definition, reader, **overrides) returning the card's template context, or None to leave it out.
DETAIL_SECTIONS: dict[str, Callable[..., Any]] = {}


def detail_section(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        DETAIL_SECTIONS[name] = fn
        return fn

    return register


def _open_supplement_items(application_id: int) -> list[dict[str, str]]:
    request_row = db.session.scalars(
        select(SupplementRequest)
        .where(SupplementRequest.application_id == application_id, SupplementRequest.answered_at.is_(None))
        .order_by(SupplementRequest.id.desc())
        .limit(1)
    ).one_or_none()
    return list(request_row.items) if request_row else []


def _render_detail(
    application_id: int,
    failed: tuple[str, TransitionForm] | None = None,
    status: int = 200,
    sections: dict[str, dict[str, Any]] | None = None,
) -> tuple[str, int]:
    user = me()
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    definition = programme_definitions(db.session)[app.programme_version_id]
    triggers = allowed_triggers(db.session, app, user, definition)
    items = _open_supplement_items(app.id) if "supply" in triggers else []
    overrides = sections or {}
    cards = {name: build(app, definition, user, **overrides.get(name, {})) for name, build in DETAIL_SECTIONS.items()}
    # A card that offers some decisions itself (the pre-review card's three buttons) takes them off the list below.
    claimed = {t for card in cards.values() if isinstance(card, dict) for t in card.get("claimed_triggers", ())}
    actions = []
    for trigger in triggers:
        # …unless that decision was posted on its own and refused: its form shows again, with the reasons.
        refused_alone = failed is not None and failed[0] == trigger and not failed[1].from_card
        if trigger in claimed and not refused_alone:
            continue
        if failed is not None and failed[0] == trigger:
            form = failed[1]
        else:
            form = transition_form(trigger, definition.transition(trigger, app.state), items, formdata=None)
            form.expected_version.data = app.version
        actions.append(
            {
                "trigger": trigger,
                "label": definition.trigger_label(trigger, lang()),
                "form": form,
                "caution": trigger in CAUTION_TRIGGERS,
            }
        )
    return render_template(
        "application.html",
        app=app,
        state_label=definition.state_label(app.state, lang()),
        programme=definition.title.get(lang()) or definition.code,
        form_data=form_rows(definition.form, app.kind, app.form or {}, lang()),
        window=definition.window,
        local_settings=[s.en if lang() == "en" else s.zh for s in definition.local_settings],
        can_edit_form=user.role == "applicant" and app.state in definition.editable,
        actions=actions,
        **cards,
    ), status


@bp.route("/applications/<int:application_id>")
@login_required
def application(application_id: int) -> Any:
    return _render_detail(application_id)


@bp.route("/applications/<int:application_id>/transitions/<trigger>", methods=["POST"])
@login_required
def transition(application_id: int, trigger: str) -> Any:
    user = me()
    app = get_visible(db.session, user, application_id)
    if app is None:
        abort(404)
    definition = programme_definitions(db.session)[app.programme_version_id]
    spec = definition.transition(trigger, app.state)
    items = _open_supplement_items(app.id) if spec is not None and "answers" in spec.requires else []
    form = transition_form(trigger, spec, items)
    detail_url = url_for(".application", application_id=application_id)
    if not form.validate_on_submit():
        if form.expected_version.errors:
            flash(gettext("The form was incomplete; the page has been reloaded."), "error")
            return redirect(detail_url, 303)
        flash(gettext("Please correct the marked fields."), "error")
        return _render_detail(application_id, (trigger, form), 422)

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
        return _render_detail(application_id, (trigger, form), 422)
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


# Shown by the error pages (web.error_pages) and by an upload whose form expired (web.attachment_pages).
CSRF_TEXTS = (
    N_("Form expired"),
    N_("The form has expired or did not come from this site. Go back, reload the page and try again."),
)
