"""The administrator's mail tools: every template previewed with sample data in both languages, and the
deliveries that failed for good (dead letters), each of which may be sent again."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from notifications import delivery, mail
from notifications.kinds import KINDS
from notifications.models import Delivery
from web.core.actor import me
from web.core.pages import commit_reads, local_time
from web.inbox.blueprints import pages as bp
from web.inbox.forms import ReadForm
from workflow.accounts import User
from workflow.db import db
from workflow.errors import NotAllowedNow, NotFound

# The preview frame: the mail's own inline styles, nothing that runs, shown only inside this site's page.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def may_administer(user: User) -> bool:
    return user.role == "admin"


def _admin() -> User:
    user = me()
    if not may_administer(user):
        abort(403)
    return user


def _kind_label(name: str) -> str:
    return KINDS[name].zh + " / " + KINDS[name].en if name in KINDS else "通知汇总 / Daily digest"


@bp.get("/admin/mail/templates")
@login_required
def templates() -> Any:
    """Each kind's mail in both languages, rendered from its file with sample data."""
    _admin()
    previews = []
    for name, lang in mail.template_names():
        rendered = mail.render(name, lang, mail.sample(name, lang))
        previews.append(
            {
                "kind": name,
                "label": _kind_label(name),
                "lang": lang,
                "file": f"notifications/templates/{name}.{lang}.jinja",
                "subject": rendered.subject,
                "text": rendered.text,
                "html_url": url_for("inbox_pages.template_html", kind=name, language=lang),
            }
        )
    return render_template("inbox_admin_templates.html", previews=previews)


@bp.get("/admin/mail/templates/<kind>/<language>.html")
@login_required
def template_html(kind: str, language: str) -> Response:
    """One template's HTML part with sample data, for the preview's frame."""
    _admin()
    if (kind, language) not in mail.template_names():
        abort(404)
    response = Response(mail.render(kind, language, mail.sample(kind, language)).html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # framed by the templates page only
    return response


@bp.get("/admin/mail/deliveries")
@login_required
def deliveries() -> Any:
    """Deliveries that failed for good, newest first, with the last error; each may be sent again."""
    _admin()
    rows = [
        {
            "id": row.id,
            "channel": row.channel,
            "address": row.address,
            "occasion": row.occasion,
            "attempts": row.attempts,
            "error": row.last_error or "",
            "created": local_time(row.created_at),
        }
        for row in delivery.dead(db.session)
    ]
    pending = db.session.query(Delivery).filter(Delivery.status.in_(("pending", "sending"))).count()
    return render_template("inbox_admin_deliveries.html", rows=rows, pending=pending, form=ReadForm())


@bp.post("/admin/mail/deliveries/<int:delivery_id>/resend")
@login_required
def resend(delivery_id: int) -> Any:
    _admin()
    form = ReadForm()
    if form.validate_on_submit():
        commit_reads()
        try:
            with db.transaction() as session:
                delivery.resend(session, delivery_id)
        except (NotFound, NotAllowedNow) as exc:
            flash(str(exc), "error")
        else:
            from workflow import outbox

            outbox.kick()
            flash(gettext("Delivery %(id)s is queued again.", id=delivery_id), "success")
    return redirect(url_for("inbox_pages.deliveries"))
