"""The auditor's pages: the audit chain's events (filtered, paged, in Beijing time) and a verification of the chain.

Anyone but the auditor is answered 404, exactly as for a page that does not exist."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, g, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm

from web.audit.access import event_filter, may_read
from web.audit.blueprints import pages as bp
from web.core.actor import me
from web.core.pages import commit_reads, role_label
from workflow import audit_trail
from workflow.audit import Verification
from workflow.db import db
from workflow.models import AuditEvent

PER_PAGE = 50
MAX_PAGE = 1_000_000

# The kinds of event an auditor meets most, in words; any other kind is shown by its code.
KIND_LABELS = {
    "created": _l("Application created"),
    "edited": _l("Draft edited"),
    "transition": _l("Transition"),
    "denied": _l("Attempt refused"),
    "assigned": _l("Assigned"),
    "logged_in": _l("Logged in"),
    "logged_out": _l("Logged out"),
    "login_failed": _l("Login failed"),
    "password_ok": _l("Password accepted, code asked"),
    "locked_out": _l("Account locked"),
    "unlocked": _l("Account unlocked"),
    "deactivated": _l("Account deactivated"),
    "token_revoked": _l("API token revoked"),
    "role_changed": _l("Role changed"),
    "audit_verified": _l("Audit chain verified"),
    "totp_enabled": _l("Second factor turned on"),
    "totp_reset": _l("Second factor reset"),
    "attachment_read": _l("Attachment read"),
    "file_read": _l("File read"),
}


class VerifyForm(FlaskForm):
    """The verification's button (CSRF only)."""


def _auditor() -> None:
    if not may_read(me()):
        abort(404)


def _page() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 9 and int(raw) > 0 else 1


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor": event.actor,
        "role": role_label(event.role),
        "kind": event.outcome,
        "kind_label": KIND_LABELS.get(event.outcome, event.outcome),
        "application_id": event.application_id,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "payload": json.dumps(event.payload, ensure_ascii=False, sort_keys=True) if event.payload else "",
        "hash": event.hash,
    }


@bp.get("/audit")
@login_required
def events() -> Any:
    """The chain's events, newest first, 50 a page; filter by application, actor, kind and Beijing days."""
    _auditor()
    where, problems = event_filter(request.args)
    if problems:
        flash(
            {"title": gettext("Some filters were not understood:"), "reasons": [p.message for p in problems]}, "error"
        )
    found = audit_trail.events(db.session, where, _page(), PER_PAGE)
    wanted = {k: v for k, v in request.args.items() if k in ("application_id", "actor", "kind", "from", "to") and v}
    return render_template(
        "audit_events.html",
        rows=[_row(e) for e in found.events],
        found=found,
        wanted=wanted,
        kinds=[(k, KIND_LABELS.get(k, k)) for k in audit_trail.kinds(db.session)],
    )


def _verify_page(found: Verification | None) -> Any:
    runs = audit_trail.events(db.session, audit_trail.EventFilter(kind=audit_trail.VERIFIED), 1, 5)
    return render_template("audit_verify.html", found=found, form=VerifyForm(), runs=[_row(e) for e in runs.events])


@bp.get("/audit/verify")
@login_required
def verify_page() -> Any:
    """The button that verifies the chain, and the last runs."""
    _auditor()
    return _verify_page(None)


@bp.post("/audit/verify")
@login_required
def verify() -> Any:
    """Walk the whole chain: intact, or its first broken link. The run is recorded; no event changes."""
    _auditor()
    if not VerifyForm().validate_on_submit():
        flash(gettext("The form has expired. Reload the page and try again."), "error")
        return _verify_page(None)
    commit_reads()
    with db.transaction() as session:
        found = audit_trail.verify_and_record(session, me(), request_id=g.get("request_id"))
    return _verify_page(found)
