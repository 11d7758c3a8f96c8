"""The rounds pages (administrators only): programmes with their versions and windows, drafts, a draft's round
settings, its diff, publishing, and a late submission admitted with its reason."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select

from review import checklists
from web.core.actor import me
from web.core.pages import commit_reads, lang, local_time
from web.rounds.blueprints import pages as bp
from web.rounds.forms import ButtonForm, DraftForm, LateAdmissionForm, draft_form, settings_from
from workflow import admissions, drafts
from workflow.accounts import User
from workflow.db import db
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.models import ProgrammeVersion
from workflow.round_models import LateAdmission, ProgrammeDraft
from workflow.visibility import programme_definitions


def may_open_rounds(user: User) -> bool:
    return user.role in drafts.ROUND_ROLES


def _admin() -> User:
    user = me()
    if not may_open_rounds(user):
        abort(403)
    return user


def _errors(form: Any, problems: list[Problem]) -> list[dict[str, str]]:
    """The GOV.UK error summary: each problem linked to its field (on the field too), or to the form's top."""
    summary = []
    for problem in problems:
        target = form[problem.field] if form is not None and problem.field in form else None
        if target is not None:
            target.errors = [*target.errors, problem.message]
        summary.append({"href": f"#{target.id}" if target is not None else "#main", "message": problem.message})
    if form is not None:
        for name, messages in form.errors.items():
            if name != "csrf_token" and not any(s["href"] == f"#{form[name].id}" for s in summary):
                summary.extend({"href": f"#{form[name].id}", "message": str(m)} for m in messages)
    return summary


def _overview(admission: LateAdmissionForm | None = None, errors: list[dict[str, str]] | None = None) -> Any:
    definitions = programme_definitions(db.session)
    versions = db.session.scalars(select(ProgrammeVersion).order_by(ProgrammeVersion.code, ProgrammeVersion.version))
    programmes: dict[str, dict[str, Any]] = {}
    for row in versions:
        definition = definitions[row.id]
        entry = programmes.setdefault(row.code, {"code": row.code, "versions": [], "drafts": []})
        entry["title"] = definition.title.get(lang()) or definition.title.get("zh") or row.code
        entry["versions"].append(
            {"label": row.label, "window": definition.window, "published": local_time(row.published_at)}
        )
    for draft in drafts.drafts(db.session):
        programmes[draft.code]["drafts"].append(
            {"id": draft.id, "based_on": draft.based_on.label, "updated": local_time(draft.updated_at)}
        )
    admitted = db.session.scalars(select(LateAdmission).order_by(LateAdmission.id.desc()).limit(20)).all()
    status = 422 if errors else 200
    return render_template(
        "rounds.html",
        programmes=list(programmes.values()),
        admitted=[
            {
                "application_id": a.application_id,
                "reason": a.reason,
                "by": a.admitted_by.display_name or a.admitted_by.username,
                "at": local_time(a.admitted_at),
            }
            for a in admitted
        ],
        button=ButtonForm(),
        admission=admission or LateAdmissionForm(),
        errors=errors or [],
    ), status


@bp.get("/rounds")
@login_required
def rounds() -> Any:
    _admin()
    return _overview()


@bp.post("/rounds/<code>/drafts")
@login_required
def start(code: str) -> Any:
    user = _admin()
    if not ButtonForm().validate_on_submit():
        abort(400)
    commit_reads()
    try:
        with db.transaction() as session:
            draft_id = drafts.start_draft(session, user, code).id
    except InvalidInput:
        abort(404)
    flash(gettext("Draft %(id)s copied from the newest version.", id=draft_id), "success")
    return redirect(url_for("rounds_pages.draft", draft_id=draft_id))


def _draft_or_404(draft_id: int) -> ProgrammeDraft:
    try:
        return drafts.get_draft(db.session, draft_id)
    except NotFound:
        abort(404)


def _form(draft: ProgrammeDraft) -> DraftForm:
    raw = draft.definition
    states = raw.get("states", {})
    words = {
        state: (states.get(state, {}).get("label", {}).get(lang()) or state, bool(spec.get("working_days")))
        for state, spec in raw.get("deadlines", {}).items()
    }
    refs = [c.ref for c in checklists.shipped()]
    threshold = "special_audit_from_wan" in (raw.get("attachments") or {})
    return draft_form(drafts.settings_of(draft), words, refs, threshold, "award" in raw, bool(raw.get("window")))


def _draft_page(draft: ProgrammeDraft, form: DraftForm, errors: list[dict[str, str]], status: int = 200) -> Any:
    return render_template(
        "rounds_draft.html", draft=draft, form=form, errors=errors, button=ButtonForm(), open=draft.status == "open"
    ), status


@bp.get("/rounds/drafts/<int:draft_id>")
@login_required
def draft(draft_id: int) -> Any:
    _admin()
    found = _draft_or_404(draft_id)
    return _draft_page(found, _form(found), [])


@bp.post("/rounds/drafts/<int:draft_id>")
@login_required
def edit(draft_id: int) -> Any:
    user = _admin()
    found = _draft_or_404(draft_id)
    form = _form(found)
    if not form.validate_on_submit():
        return _draft_page(found, form, _errors(form, []), 422)
    settings = settings_from(form)
    commit_reads()
    try:
        with db.transaction() as session:
            drafts.edit_draft(session, user, draft_id, settings)
    except InvalidInput as error:
        found = _draft_or_404(draft_id)
        return _draft_page(found, form, _errors(form, error.problems), 422)
    flash(gettext("The draft is saved. Read the changes, then publish."), "success")
    return redirect(url_for("rounds_pages.diff", draft_id=draft_id))


def _diff_page(draft: ProgrammeDraft, errors: list[dict[str, str]], status: int = 200) -> Any:
    english = lang() == "en"
    changes = [
        {"what": c.what_en if english else c.what_zh, "before": c.before or "—", "after": c.after or "—", "key": c.key}
        for c in drafts.diff(draft)
    ]
    return render_template(
        "rounds_diff.html",
        draft=draft,
        changes=changes,
        errors=errors,
        button=ButtonForm(),
        open=draft.status == "open",
    ), status


@bp.get("/rounds/drafts/<int:draft_id>/diff")
@login_required
def diff(draft_id: int) -> Any:
    _admin()
    return _diff_page(_draft_or_404(draft_id), [])


@bp.post("/rounds/drafts/<int:draft_id>/publish")
@login_required
def publish(draft_id: int) -> Any:
    user = _admin()
    _draft_or_404(draft_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    commit_reads()
    try:
        with db.transaction() as session:
            label = drafts.publish_draft(session, user, draft_id).label
    except InvalidInput as error:
        return _diff_page(_draft_or_404(draft_id), _errors(None, error.problems), 422)
    flash(
        gettext("Published as %(label)s: new applications take it; those already open keep theirs.", label=label),
        "success",
    )
    return redirect(url_for("rounds_pages.rounds"))


@bp.post("/rounds/late-admissions")
@login_required
def admit_late() -> Any:
    user = _admin()
    form = LateAdmissionForm()
    if not form.validate_on_submit():
        return _overview(form, _errors(form, []))
    commit_reads()
    try:
        with db.transaction() as session:
            admissions.admit_late(session, user, form.application_id.data or 0, form.reason.data or "")
    except NotFound:
        problem = Problem(
            "application_id", "not_found", gettext("There is no application %(id)s.", id=form.application_id.data)
        )
        return _overview(form, _errors(form, [problem]))
    except InvalidInput as error:
        return _overview(form, _errors(form, error.problems))
    flash(gettext("Application %(id)s may now be submitted late.", id=form.application_id.data), "success")
    return redirect(url_for("rounds_pages.rounds"))
