"""The panel card, the draw, declarations and the site visit (pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from review import panels, site_visit
from review import pool as expert_pool
from web.core.actor import me
from web.core.detail import render_detail
from web.core.pages import commit_reads, local_time
from web.panel.blueprints import pages as bp
from web.panel.page_helpers import forbid_unless, show_problems
from workflow.accounts import User
from workflow.db import as_utc, db
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound
from workflow.models import Application
from workflow.workdays import SHANGHAI

REASON_LABELS = {"initial": _l("Initial draw"), "replacement": _l("Replacement"), "refill": _l("Empty seats filled")}
# Visits start on the half hour between 07:00 and 19:30 (Shanghai time): a list is quicker than a clock on a phone.
VISIT_TIMES = [f"{h:02d}:{m:02d}" for h in range(7, 20) for m in (0, 30)]


class DrawForm(FlaskForm):
    size = IntegerField(
        _l("Number of experts"), validators=[InputRequired(), NumberRange(min=1, max=99)], render_kw={"min": 1}
    )
    seed = StringField(
        _l("Seed (optional; leave empty for a random one)"),
        validators=[Optional(), Length(max=panels.SEED_MAX)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class VisitForm(FlaskForm):
    day = DateField(_l("Visit date"), validators=[InputRequired()], render_kw={"type": "date"})
    time = SelectField(_l("Time (Shanghai)"), choices=[SelectChoice(t, t) for t in VISIT_TIMES], default="09:00")
    place = StringField(_l("Place"), validators=[Length(max=panels.PLACE_MAX)])
    note = TextAreaField(_l("Note"), validators=[Length(max=expert_pool.NOTE_MAX)], render_kw={"rows": 2})

    def visit_at(self) -> dt.datetime:
        hour, minute = (int(part) for part in self.time.data.split(":"))
        return dt.datetime.combine(self.day.data, dt.time(hour, minute), SHANGHAI)


class StepsForm(FlaskForm):
    """Seed 002 §五(二): what the panel noted at each step of the visit (the leader records it)."""

    presentation = TextAreaField(
        _l("Presentation and live demonstration: what the panel heard and saw"),
        validators=[Length(max=site_visit.STEP_MAX)],
        render_kw={"rows": 3},
    )
    inspection = TextAreaField(
        _l("Inspection and questions: what the panel checked and asked"),
        validators=[Length(max=site_visit.STEP_MAX)],
        render_kw={"rows": 3},
    )


class DeclarationForm(FlaskForm):
    conflict = RadioField(
        _l("Conflict of interest"),
        choices=[
            SelectChoice("no", _l("I have no conflict of interest")),
            SelectChoice("yes", _l("I have a conflict of interest")),
        ],
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("What the conflict is (required if you have one)"),
        validators=[Length(max=expert_pool.NOTE_MAX)],
        render_kw={"rows": 3},
    )


def _settings() -> tuple[int, bool]:
    return int(current_app.config["PANEL_SIZE"]), bool(current_app.config["PANEL_EXCLUDE_SAME_DISTRICT"])


# --- the card on the application page --------------------------------------------------------------------------


def _member_view(member: dict[str, Any]) -> dict[str, Any]:
    if member["conflict"] is True:
        status = gettext("Left: declared a conflict of interest")
    elif member["declared"]:
        status = gettext("Declared no conflict of interest")
    else:
        status = gettext("Has not declared yet")
    return {**member, "status": status}


def _local(stamp: str | None) -> str:
    """An ISO time from the operations as Shanghai reads it."""
    return local_time(dt.datetime.fromisoformat(stamp)) if stamp else ""


def _draw_view(draw: dict[str, Any]) -> dict[str, Any]:
    label = str(REASON_LABELS.get(draw["reason"], draw["reason"]))
    return {**draw, "reason_label": label, "time": _local(draw["drawn_at"])}


def _visit_view(visit: dict[str, Any] | None) -> dict[str, Any] | None:
    if visit is None:
        return None
    return {**visit, "time": _local(visit["visit_at"])}


def panel_context(
    app: Application,
    user: User,
    draw_form: DrawForm | None = None,
    visit_form: VisitForm | None = None,
    steps_form: StepsForm | None = None,
) -> dict[str, Any] | None:
    """What `_panel.html` shows this reader; None when there is nothing for them."""
    view = panels.panel_view(db.session(), user, app.id)
    visit = _visit_view(view["visit"])
    if user.role == "applicant":
        return {"applicant": True, "visit": visit} if visit else None
    manager = user.role in panels.DRAWERS
    open_now = app.state == panels.PANEL_STATE
    if not (view["draws"] or view["members"] or visit or (manager and open_now)):
        return None
    context: dict[str, Any] = {
        "applicant": False,
        "members": [_member_view(m) for m in view["members"]],
        "draws": [_draw_view(d) for d in view["draws"]],
        "short": view["short"],
        "visit": visit,
        "mine": next((m for m in view["members"] if m["username"] == user.username), None),
        "draw_form": None,
        "visit_form": None,
        "steps": view["visit"]["steps"] if view["visit"] else None,
        "steps_form": None,
    }
    mine = context["mine"]
    leads = bool(mine and mine["leader"] and mine["active"] and mine["declared"])
    if leads and open_now and view["visit"] and site_visit.not_open_yet(db.session(), app.id) is None:
        if steps_form is None:
            steps_form = StepsForm(formdata=None, prefix="steps")
            steps_form.presentation.data = view["visit"]["steps"]["presentation"]["notes"]
            steps_form.inspection.data = view["visit"]["steps"]["inspection"]["notes"]
        context["steps_form"] = steps_form
    if manager and open_now:
        default_size, exclude_same_district = _settings()
        pool, excluded = expert_pool.eligible_pool(db.session(), app, exclude_same_district)
        context.update(eligible=len(pool), excluded=len(excluded))
        # No panel yet, or seats left empty by a conflict that nobody eligible could fill then.
        if not any(m["active"] for m in view["members"]) or view["short"]:
            if draw_form is None:
                draw_form = DrawForm(formdata=None, prefix="draw")
                wanted = view["short"] or default_size
                draw_form.size.data = min(wanted, len(pool)) or wanted
            context["draw_form"] = draw_form
    if user.role in panels.VISIT_SCHEDULERS and open_now:
        if visit_form is None:
            visit_form = VisitForm(formdata=None, prefix="visit")
            if view["visit"]:
                when = as_utc(dt.datetime.fromisoformat(view["visit"]["visit_at"])).astimezone(SHANGHAI)
                shown = when.strftime("%H:%M")  # a time set over the API may be off the half hour
                visit_form.time.choices = [SelectChoice(t, t) for t in sorted({*VISIT_TIMES, shown})]
                visit_form.day.data, visit_form.time.data = when.date(), shown
                visit_form.place.data, visit_form.note.data = view["visit"]["place"], view["visit"]["note"]
        context["visit_form"] = visit_form
    return context


def panel_card(app: Application, _definition: Any, user: User, **overrides: Any) -> dict[str, Any] | None:
    return panel_context(app, user, **overrides)


@bp.route("/applications/<int:application_id>/panel", methods=["POST"])
@login_required
def draw_panel(application_id: int) -> Any:
    """The coordinator draws the panel from the page; back to the application (303), or the form with reasons."""
    user = forbid_unless(*panels.DRAWERS)
    form = DrawForm(prefix="draw")
    detail_url = url_for("applications.application", application_id=application_id)
    if not form.validate_on_submit():
        return render_detail(application_id, status=422, sections={"panel": {"draw_form": form}})
    _size, exclude_same_district = _settings()
    commit_reads()
    try:
        draw = panels.draw_panel(
            user.id, application_id, form.size.data, form.seed.data or None, exclude_same_district, g.request_id
        )
    except InvalidInput as exc:
        for text in show_problems(form, exc.problems):
            flash(text, "error")
        return render_detail(application_id, status=422, sections={"panel": {"draw_form": form}})
    except panels.PanelConflict:
        flash(gettext("This application already has a panel."), "warning")
        return redirect(detail_url, 303)
    except NotAllowedNow:
        flash(gettext("A panel is drawn only during site verification."), "error")
        return redirect(detail_url, 303)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    names = dict(
        db.session.execute(select(User.username, User.display_name).where(User.username.in_(draw.drawn))).all()
    )
    shown = [names.get(u) or u for u in draw.drawn]  # people by name, not by their login
    flash(gettext("Panel drawn: %(members)s (%(leader)s leads).", members="、".join(shown), leader=shown[0]), "success")
    return redirect(detail_url, 303)


@bp.route("/applications/<int:application_id>/visit", methods=["POST"])
@login_required
def schedule_visit(application_id: int) -> Any:
    """The coordinator sets or moves the site visit; the applicant and the panel are notified."""
    user = forbid_unless(*panels.VISIT_SCHEDULERS)
    form = VisitForm(prefix="visit")
    detail_url = url_for("applications.application", application_id=application_id)
    if not form.validate_on_submit():
        return render_detail(application_id, status=422, sections={"panel": {"visit_form": form}})
    commit_reads()
    try:
        visit = panels.schedule_visit(
            user.id, application_id, form.visit_at(), form.place.data or "", form.note.data or "", g.request_id
        )
    except InvalidInput as exc:
        for text in show_problems(form, exc.problems, {"visit_at": "day"}):
            flash(text, "error")
        return render_detail(application_id, status=422, sections={"panel": {"visit_form": form}})
    except NotAllowedNow:
        flash(gettext("The site visit is scheduled only during site verification."), "error")
        return redirect(detail_url, 303)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    flash(gettext("Site visit set for %(time)s.", time=local_time(visit.visit_at)), "success")
    return redirect(detail_url, 303)


@bp.route("/applications/<int:application_id>/visit/steps", methods=["POST"])
@login_required
def note_visit_steps(application_id: int) -> Any:
    """The panel leader notes what the panel heard and found at each step of the visit (from the visit's day)."""
    user = forbid_unless("expert")
    form = StepsForm(prefix="steps")
    detail_url = url_for("applications.application", application_id=application_id)
    if not form.validate_on_submit():
        return render_detail(application_id, status=422, sections={"panel": {"steps_form": form}})
    commit_reads()
    try:
        site_visit.record_steps(
            user.id, application_id, form.presentation.data or "", form.inspection.data or "", g.request_id
        )
    except InvalidInput as exc:
        for text in show_problems(form, exc.problems):
            flash(text, "error")
        return render_detail(application_id, status=422, sections={"panel": {"steps_form": form}})
    except (NotAllowedNow, site_visit.BeforeVisitDay) as exc:
        flash(exc.detail, "error")
        return redirect(detail_url, 303)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    flash(gettext("The panel's notes on the visit are saved."), "success")
    return redirect(detail_url, 303)


# --- the expert's assignments and declarations ------------------------------------------------------------------


def _declaration_prefix(application_id: int) -> str:
    return f"declare{application_id}"


def _render_assignments(failed: tuple[int, DeclarationForm] | None = None, status: int = 200) -> tuple[str, int]:
    items = []
    for item in panels.assignments_of(db.session(), me()):
        form = None
        if item["pending"]:
            if failed is not None and failed[0] == item["application_id"]:
                form = failed[1]
            else:
                form = DeclarationForm(formdata=None, prefix=_declaration_prefix(item["application_id"]))
        items.append({**item, "form": form, "visit": _visit_view(item["visit"]), "time": _local(item["declared_at"])})
    return render_template("assignments.html", assignments=items), status


@bp.route("/assignments")
@login_required
def assignments() -> Any:
    """An expert's panel seats: declare on each before its file opens."""
    forbid_unless("expert")
    return _render_assignments()


@bp.route("/applications/<int:application_id>/panel/declaration", methods=["POST"])
@login_required
def declare(application_id: int) -> Any:
    """The expert's declaration: no conflict opens the application; a conflict leaves the panel."""
    user = forbid_unless("expert")
    form = DeclarationForm(prefix=_declaration_prefix(application_id))
    back = url_for("panel.assignments")
    if not form.validate_on_submit():
        flash(gettext("Please correct the marked fields."), "error")
        return _render_assignments((application_id, form), 422)
    conflict = form.conflict.data == "yes"
    _size, exclude_same_district = _settings()
    commit_reads()
    try:
        result = panels.declare(
            user.id, application_id, conflict, form.note.data or "", exclude_same_district, g.request_id
        )
    except InvalidInput as exc:
        for text in show_problems(form, exc.problems):
            flash(text, "error")
        return _render_assignments((application_id, form), 422)
    except panels.PanelConflict:
        flash(gettext("You have already declared on this application."), "warning")
        return redirect(back, 303)
    except NotAllowedNow:
        flash(gettext("Declarations are made only during site verification."), "error")
        return redirect(back, 303)
    except NotFound:
        abort(404)
    if not conflict:
        flash(gettext("Declared: no conflict of interest. The application is open to you."), "success")
        return redirect(url_for("applications.application", application_id=application_id), 303)
    if result.short:
        message = gettext("Declared: conflict of interest. You have left the panel; nobody was left to replace you.")
    else:
        message = gettext("Declared: conflict of interest. You have left the panel and a replacement was drawn.")
    flash(message, "info")
    return redirect(back, 303)
