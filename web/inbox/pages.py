"""The inbox pages: the reader's notifications (unread first marked, paged), mark read, and their mail settings.
The unread count is in the header of every page (a context processor of this area)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from notifications import operations
from notifications.kinds import KINDS
from web.core.actor import me
from web.core.pages import commit_reads, lang, local_time
from web.inbox.blueprints import pages as bp
from web.inbox.entries import entry
from web.inbox.forms import ReadForm, with_modes
from web.inbox.preferences import profile, update_profile
from workflow.db import db
from workflow.errors import InvalidInput, NotFound

PER_PAGE = 20


@bp.app_context_processor
def _unread_badge() -> dict[str, Any]:
    """Every page's header: how many notifications the reader has not read."""
    if not current_user.is_authenticated:
        return {}
    return {"inbox_unread": operations.unread_count(db.session, me().id), "inbox_url": url_for("inbox_pages.inbox")}


@bp.get("/inbox")
@login_required
def inbox() -> Any:
    """The reader's notifications, newest first, 20 a page."""
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    unread_only = request.args.get("unread") == "1"
    listed = operations.inbox(db.session, me(), min(page, 1_000_000), PER_PAGE, unread_only)
    pages = max(1, -(-listed.total // PER_PAGE))
    return render_template(
        "inbox.html",
        entries=[{**entry(n, app), "created_local": local_time(n.created_at)} for n, app in listed.entries],
        listed=listed,
        pages=pages,
        unread_only=unread_only,
        form=ReadForm(),
        lang=lang(),
    )


@bp.post("/inbox/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Any:
    """Mark one read and go where it points (the application), or back to the inbox."""
    form = ReadForm()
    if not form.validate_on_submit():
        flash(gettext("The form has expired. Reload the page and try again."), "error")
        return redirect(url_for("inbox_pages.inbox"))
    commit_reads()
    try:
        with db.transaction() as session:
            row = operations.mark_read(session, me(), notification_id)
            target = row.application_id
    except NotFound:
        flash(gettext("That notification is not yours or no longer exists."), "error")
        return redirect(url_for("inbox_pages.inbox"))
    if request.form.get("open") and target is not None:
        return redirect(url_for("applications.application", application_id=target))
    return redirect(url_for("inbox_pages.inbox", page=request.form.get("page", 1)))


@bp.post("/inbox/read-all")
@login_required
def mark_all_read() -> Any:
    form = ReadForm()
    if form.validate_on_submit():
        commit_reads()
        with db.transaction() as session:
            marked = operations.mark_all_read(session, me())
        flash(gettext("%(count)s notifications marked read.", count=marked), "success")
    return redirect(url_for("inbox_pages.inbox"))


@bp.route("/inbox/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    """Where mail goes, in which language, and how each kind comes; deadlines always come at once."""
    current = profile(db.session, me())
    form = with_modes(current["modes"])(
        data={"email": current["email"], "language": current["language"], "phone": current["phone"]}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        body = {
            "email": form.email.data or "",
            "language": form.language.data,
            "phone": form.phone.data or "",
            "modes": {name: getattr(form, f"mode_{name}").data for name, kind in KINDS.items() if not kind.deadline},
        }
        commit_reads()
        try:
            with db.transaction() as session:
                update_profile(session, me().id, body)
        except InvalidInput as exc:
            flash({"title": gettext("Not saved:"), "reasons": [p.message for p in exc.problems]}, "error")
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("inbox_pages.preferences"))
    elif request.method == "POST":
        flash(gettext("Please correct the marked fields."), "error")
    kinds = [
        {
            "name": name,
            "label": kind.label(lang()),
            "deadline": kind.deadline,
            "field": getattr(form, f"mode_{name}", None),
        }
        for name, kind in KINDS.items()
    ]
    return render_template("inbox_preferences.html", form=form, kinds=kinds)
