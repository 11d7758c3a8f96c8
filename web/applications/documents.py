"""The documents to print on the pages: the printable 附件2 项目申请表 with its 验收申请报告 (for whoever may see the
application, where the programme has one), and the applicant's own: the authenticity commitment, and the
credit-query letter (附件3) from a small form that records who authorises the query (ID number sealed) and hands
back the letter to print and sign.

`documents_context(app, user)` gives what the `_documents.html` partial shows; include it with the variable
`documents` (None when there is nothing for this reader, and the partial then shows nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from applications import authorisers, form_document, printouts
from applications.models import AUTHORISER_ROLES
from forms import idcard
from web.applications.blueprints import pages as bp
from web.core.actor import me
from web.core.api import docx_response, sealer
from web.core.pages import commit_reads, lang, local_time
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound
from workflow.models import Application
from workflow.visibility import get_visible, programme_definitions

# The stored values are the letter's Chinese words; these are what an English reader sees in the select.
ROLE_LABELS = {"法人代表": _l("Legal representative"), "项目负责人": _l("Project lead")}


def _id_card_rule(_form: FlaskForm, field: Field) -> None:
    why = idcard.problem(field.data or "")
    if why:
        # The rule's own words are Chinese and say exactly what is wrong; English readers get the rule itself.
        raise ValidationError(
            why
            if lang() == "zh"
            else gettext("Not a valid ID card number: 18 characters, the last a check digit or X.")
        )


class CreditAuthoriserForm(FlaskForm):
    """Who signs 附件3: name, ID card number (GB 11643), and as whom."""

    person_name = StringField(
        _l("Name of the person authorising"),
        validators=[
            DataRequired(message=_l("Please enter the name.")),
            Length(max=authorisers.MAX_NAME, message=_l("At most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    id_card = StringField(
        _l("ID card number"),
        validators=[DataRequired(message=_l("Please enter the ID card number.")), _id_card_rule],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 18, "autocapitalize": "characters"},
    )
    role = SelectField(
        _l("Signs as"),
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in AUTHORISER_ROLES],
        validators=[InputRequired(message=_l("Please choose who signs."))],
    )

    def __init__(self, *args: Any, **kwargs: Any):
        # A prefix keeps these ids apart from other forms on the application page.
        super().__init__(*args, prefix="authoriser", **kwargs)


# --- what the partial shows ---------------------------------------------------------------------------------------


def documents_context(app: Application, user: User, form: CreditAuthoriserForm | None = None) -> dict[str, Any] | None:
    """What `_documents.html` shows for `app` (which `user` may see): everything for the applicant; for anyone
    else the printable application form only, or None where the programme has none."""
    definition = programme_definitions(db.session)[app.programme_version_id]
    application_form_url = (
        url_for("applications.application_form_download", application_id=app.id)
        if form_document.has_application_form(definition)
        else None
    )
    if user.role != "applicant":
        return {"applicant": False, "application_form_url": application_form_url} if application_form_url else None
    row = authorisers.current(db.session, app.id)
    if form is None and authorisers.may_record(app, definition):
        known = {"person_name": row.person_name, "role": row.role} if row is not None else None
        form = CreditAuthoriserForm(formdata=None, data=known)  # the ID number is never filled in again
    authoriser = None
    if row is not None:
        authoriser = {
            "person_name": row.person_name,
            "role": row.role,
            "role_label": str(ROLE_LABELS.get(row.role, row.role)),
            "id_card_masked": row.id_card_masked,
            "recorded_at": local_time(row.created_at),
        }
    return {
        "applicant": True,
        "application_form_url": application_form_url,
        "page_url": url_for("applications.application_documents", application_id=app.id),
        "commitment_url": url_for("applications.authenticity_commitment_download", application_id=app.id),
        "letter_url": url_for("applications.credit_authorisation_download", application_id=app.id) if row else None,
        "save_url": url_for("applications.record_credit_authoriser", application_id=app.id),
        "authoriser": authoriser,
        "form": form if authorisers.may_record(app, definition) else None,
    }


# --- views --------------------------------------------------------------------------------------------------------


def documents_card(app: Application, _definition: Definition, user: User) -> dict[str, Any] | None:
    return documents_context(app, user)


def _printed(render: Callable[..., printouts.Printout], application_id: int, *args: Any) -> printouts.Printout:
    """A printout through its audited operation: 404 for an application the reader may not see, 403 for a
    document that is the applicant's alone."""
    actor = me().id
    commit_reads()  # the view's read transaction ends before the audit's write (SQLite allows one writer)
    try:
        return render(actor, application_id, *args, request_id=g.request_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403, description=gettext("Only the applicant prints the applicant's documents."))


def _applicant_app(application_id: int) -> tuple[Application, Definition]:
    user = me()
    definitions = programme_definitions(db.session)
    app = get_visible(db.session, user, application_id, definitions=definitions)
    if app is None:
        abort(404)
    if user.role != "applicant":
        abort(403, description=gettext("Only the applicant prints the applicant's documents."))
    return app, definitions[app.programme_version_id]


def _render(app: Application, form: CreditAuthoriserForm | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("documents.html", app=app, documents=documents_context(app, me(), form)), status


@bp.route("/applications/<int:application_id>/documents", methods=["GET"])
@login_required
def application_documents(application_id: int) -> Any:
    app, _definition = _applicant_app(application_id)
    return _render(app)


@bp.route("/applications/<int:application_id>/documents/authenticity-commitment", methods=["GET"])
@login_required
def authenticity_commitment_download(application_id: int) -> Any:
    printout = _printed(printouts.commitment, application_id)
    assert printout.data is not None
    return docx_response(printout.data, printout.filename)


@bp.route("/applications/<int:application_id>/documents/application-form", methods=["GET"])
@login_required
def application_form_download(application_id: int) -> Any:
    """附件2 项目申请表 and 验收申请报告, for whoever may see the application."""
    printout = _printed(printouts.application_form, application_id)
    if printout.data is None:
        flash(gettext("This programme has no application form (附件2) to print."), "error")
        return redirect(url_for("applications.application", application_id=application_id), 303)
    return docx_response(printout.data, printout.filename)


@bp.route("/applications/<int:application_id>/documents/credit-authorisation", methods=["GET"])
@login_required
def credit_authorisation_download(application_id: int) -> Any:
    printout = _printed(printouts.credit_letter, application_id, sealer())
    if printout.data is None:
        flash(gettext("No one is recorded yet as authorising the credit query: fill in the form first."), "error")
        return redirect(url_for("applications.application_documents", application_id=application_id), 303)
    return docx_response(printout.data, printout.filename)


@bp.route("/applications/<int:application_id>/documents/credit-authorisation", methods=["POST"])
@login_required
def record_credit_authoriser(application_id: int) -> Any:
    app, _definition = _applicant_app(application_id)
    form = CreditAuthoriserForm()
    if not form.validate_on_submit():
        return _render(app, form, 422)
    commit_reads()
    try:
        _row, document = authorisers.record(
            me().id,
            application_id,
            person_name=form.person_name.data,
            id_card=form.id_card.data,
            role=form.role.data,
            sealer=sealer(),
            request_id=g.request_id,
        )
    except InvalidInput as exc:  # the operation's own check, should the form's ever let something through
        for problem in exc.problems:
            if problem.field in form:
                form[problem.field].errors = [*form[problem.field].errors, problem.message]
        return _render(_applicant_app(application_id)[0], form, 422)
    except NotAllowedNow:
        flash(
            gettext("The authoriser can be recorded only while the form can be edited or supplements are due."), "error"
        )
        return redirect(url_for("applications.application_documents", application_id=application_id), 303)
    except NotFound:
        abort(404)
    except Forbidden as exc:
        abort(403, description=exc.detail)
    return docx_response(document, authorisers.LETTER_FILENAME)
