"""Submitting, as GOV.UK's funding services do (issue 15 item 2): check your answers, submit, a confirmation with the
reference number (申报编号), and a receipt to keep (.docx).

The check page shows every section's answers with a link to change them, the documents uploaded, and what still
blocks the submission (the guards the engine will apply, judged now). Its button fires the definition's submission
trigger (`submit`, or `resubmit` after a return) with the version the applicant saw, as the detail page's buttons do.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from forms import sections as S
from forms.fields import Field, form_version
from review.receipts import FILENAME as RECEIPT_FILENAME
from review.receipts import receipt_docx
from web.applications.attachments import attachments_context
from web.applications.blueprints import pages as bp
from web.applications.form_tasks import attachments_url, section_url, task_list
from web.core.actor import me
from web.core.api import docx_response
from web.core.detail import decision_form
from web.core.page_forms import TransitionForm, problem_text
from web.core.pages import CAUTION_TRIGGERS, commit_reads, lang, local_time
from workflow import registry
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, check_guards, fire
from workflow.errors import Forbidden, GuardFailed, NotAllowedNow, NotFound, StaleVersion
from workflow.models import Application
from workflow.registry import Context
from workflow.visibility import get_visible, programme_definitions

# The guards the check page shows by section and by document (form_tasks.task_list); any other guard of the
# submission (the round's window, the key-unit list) is shown with its own words.
SHOWN_APART = {"application_form_complete", "required_attachments"}


def submission_trigger(app: Application, user: User, definition: Definition) -> str | None:
    """The trigger that submits the application now, if `user` may fire it: an applicant's move out of an editable
    state into one that is not (submit from a draft, resubmit after a return); never a withdrawal."""
    if user.role != "applicant" or app.state not in definition.editable:
        return None
    for trigger in allowed_triggers(db.session, app, user, definition):
        spec = definition.transition(trigger, app.state)
        if spec is not None and trigger not in CAUTION_TRIGGERS and spec.dest not in definition.editable:
            return trigger
    return None


@bp.app_template_global()
def check_answers_url(app: Application, trigger: str) -> str | None:
    """For the detail page: where the applicant's submit button leads (this check page), or None for any other
    decision, which posts from the detail page as before."""
    user = me()
    definition = programme_definitions(db.session)[app.programme_version_id]
    if trigger != submission_trigger(app, user, definition):
        return None
    return url_for("applications.check_answers", application_id=app.id)


def _answer(f: Field, data: dict[str, Any]) -> str:
    value = data.get(f.key)
    return f.shown(value, lang()) if S.filled(value) else ""


def answer_sections(app: Application, definition: Definition) -> list[dict[str, Any]]:
    """Every section of the form with every question in it and the answer given ("" when none): unlike the detail
    page's summary (forms.fields.form_sections), an unanswered question is shown, as it is to be checked too."""
    form = form_version(definition.form)
    data = app.form or {}
    by_key = {f.key: f for f in form.fields}
    return [
        {
            "slug": part.slug,
            "title": part.title(lang()),
            "change_url": section_url(app, part),
            "rows": [
                {
                    "key": key,
                    "label": by_key[key].en if lang() == "en" else by_key[key].zh,
                    "answer": _answer(by_key[key], data),
                    "change_url": section_url(app, part, key),
                }
                for key in part.keys
            ],
        }
        for part in S.sections(form, app.kind)
    ]


def other_blockers(app: Application, user: User, definition: Definition, trigger: str) -> list[str]:
    """What else the submission's guards would refuse now (outside the form and the documents), in the reader's
    language; judged on the read session, nothing is written."""
    spec = definition.transition(trigger, app.state)
    if spec is None:
        return []
    rest = tuple(ref for ref in spec.guards if registry.split(ref)[0] not in SHOWN_APART)
    ctx = Context(db.session, app, user, trigger, {}, definition, dataclasses.replace(spec, guards=rest), app.state)
    return [problem_text(p) for p in check_guards(ctx)]


def _applicant_app(application_id: int) -> tuple[Application, Definition, User]:
    user = me()
    definitions = programme_definitions(db.session)
    app = get_visible(db.session, user, application_id, definitions=definitions)
    if app is None:
        abort(404)
    return app, definitions[app.programme_version_id], user


def _render_check(
    app: Application,
    definition: Definition,
    user: User,
    trigger: str,
    form: TransitionForm | None = None,
    refused: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if form is None:
        # A resubmission answers each point of the return here (review.returns), beside the send button.
        form = decision_form(app, definition, trigger, formdata=None)
        form.expected_version.data = app.version
    tasks = task_list(app, definition, form_version(definition.form), user)
    others = other_blockers(app, user, definition, trigger)
    blocking = tasks["fields_needed_count"] + len(tasks["files_needed"]) + len(others)
    return render_template(
        "check_answers.html",
        app=app,
        state_label=definition.state_label(app.state, lang()),
        programme=definition.title.get(lang()) or definition.code,
        trigger=trigger,
        trigger_label=definition.trigger_label(trigger, lang()),
        sections=answer_sections(app, definition),
        documents=attachments_context(app, definition, user)["documents"],
        attachments_url=attachments_url(app),
        fields_needed=tasks["fields_needed"],
        files_needed=tasks["files_needed"],
        others=others,
        blocking=blocking,
        refused=refused or [],
        form=form,
    ), status


def _not_now(app: Application, definition: Definition) -> Any:
    """The application is not the applicant's to submit now: its confirmation if it was submitted, else its page."""
    if app.reference is not None and app.state not in definition.editable:
        return redirect(url_for("applications.submitted", application_id=app.id), 303)
    flash(gettext("This application cannot be submitted now."), "error")
    return redirect(url_for("applications.application", application_id=app.id), 303)


def _submitting(application_id: int) -> tuple[Application, Definition, User, str]:
    """The application the applicant may submit now, and the trigger that submits it; else the answer to give."""
    app, definition, user = _applicant_app(application_id)
    if user.role != "applicant":
        abort(403, description=gettext("Only the applicant submits the application."))
    trigger = submission_trigger(app, user, definition)
    if trigger is None:
        abort(_not_now(app, definition))
    return app, definition, user, trigger


@bp.route("/applications/<int:application_id>/check", methods=["GET"])
@login_required
def check_answers(application_id: int) -> Any:
    return _render_check(*_submitting(application_id))


@bp.route("/applications/<int:application_id>/check", methods=["POST"])
@login_required
def submit_checked(application_id: int) -> Any:
    """Submit from the check page: the submission trigger, with the version the applicant checked."""
    app, definition, user, trigger = _submitting(application_id)
    form = decision_form(app, definition, trigger)
    check_url = url_for("applications.check_answers", application_id=app.id)
    if not form.validate_on_submit():
        if form.expected_version.errors:
            flash(gettext("The form was incomplete; the page has been reloaded."), "error")
            return redirect(check_url, 303)
        return _render_check(app, definition, user, trigger, form, [gettext("Please correct the marked fields.")], 422)
    commit_reads()
    try:
        fire(application_id, trigger, user.id, form.payload(), form.expected_version.data, request_id=g.request_id)
    except StaleVersion:
        flash(gettext("Someone else changed this application in the meantime; check it again."), "warning")
        return redirect(check_url, 303)
    except GuardFailed as exc:
        fresh, definition, user = _applicant_app(application_id)
        return _render_check(fresh, definition, user, trigger, form, form.show_problems(exc.problems), 422)
    except NotAllowedNow:
        return _not_now(_applicant_app(application_id)[0], definition)
    except NotFound:
        abort(404)
    except Forbidden as exc:
        abort(403, description=exc.detail)
    return redirect(url_for("applications.submitted", application_id=application_id), 303)


@bp.route("/applications/<int:application_id>/submitted", methods=["GET"])
@login_required
def submitted(application_id: int) -> Any:
    """The confirmation: the reference number, what happens next, the receipt."""
    app, definition, _user = _applicant_app(application_id)
    if app.reference is None:
        return redirect(url_for("applications.application", application_id=app.id), 303)
    return render_template(
        "submitted.html",
        app=app,
        state_label=definition.state_label(app.state, lang()),
        programme=definition.title.get(lang()) or definition.code,
        submitted_at=local_time(app.submitted_at),
    )


@bp.route("/applications/<int:application_id>/receipt.docx", methods=["GET"])
@login_required
def receipt(application_id: int) -> Any:
    """申报回执, for whoever may see the application, once it has been submitted."""
    app, definition, _user = _applicant_app(application_id)
    if app.reference is None:
        flash(gettext("There is no receipt before the application is submitted."), "error")
        return redirect(url_for("applications.application", application_id=app.id), 303)
    return docx_response(receipt_docx(db.session, app, definition), f"{app.reference}-{RECEIPT_FILENAME}")
