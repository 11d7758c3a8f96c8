"""The inbox API: the caller's notifications, paged, with the unread count; mark one or all read; preferences."""

from __future__ import annotations

from flask import Response, jsonify, request

from notifications import operations
from web.core.actor import me
from web.core.api import positive_int
from web.core.pages import commit_reads
from web.core.problems import read_body
from web.inbox.blueprints import api as bp
from web.inbox.entries import entry
from web.inbox.preferences import profile, update_profile
from workflow.db import db, iso_utc
from workflow.errors import InvalidInput, Problem

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


@bp.get("/inbox")
def inbox() -> Response:
    """The caller's own notifications, newest first; `unread=true` for the unread ones only."""
    page, page_problem = positive_int("page", 1, MAX_PAGE)
    per_page, per_page_problem = positive_int("per_page", 20, MAX_PER_PAGE)
    found = [p for p in (page_problem, per_page_problem) if p]
    unread_only = request.args.get("unread", "false").lower()
    if unread_only not in ("true", "false"):
        found.append(Problem("unread", "invalid", f"unread is true or false, not '{unread_only}'"))
    if found:
        raise InvalidInput("; ".join(p.message for p in found), found)
    listed = operations.inbox(db.session, me(), page, per_page, unread_only == "true")
    return jsonify(
        total=listed.total,
        unread=listed.unread,
        page=listed.page,
        per_page=listed.per_page,
        items=[entry(n, app) for n, app in listed.entries],
    )


@bp.post("/inbox/<int:notification_id>/read")
def mark_read(notification_id: int) -> Response:
    """Mark one of the caller's notifications read (again: nothing changes); someone else's is 404."""
    commit_reads()
    with db.transaction() as session:
        row = operations.mark_read(session, me(), notification_id)
        read_at = iso_utc(row.read_at)
    return jsonify(id=notification_id, read_at=read_at, unread=operations.unread_count(db.session, me().id))


@bp.post("/inbox/read-all")
def mark_all_read() -> Response:
    """Mark every one of the caller's notifications read."""
    commit_reads()
    with db.transaction() as session:
        marked = operations.mark_all_read(session, me())
    return jsonify(marked=marked, unread=0)


@bp.get("/inbox/preferences")
def get_preferences() -> Response:
    """The caller's e-mail address, language and per-kind mail modes."""
    return jsonify(profile(db.session, me()))


@bp.put("/inbox/preferences")
def put_preferences() -> Response:
    """Change any of email, language ('zh' or 'en'), phone and modes ({kind: immediate | digest | never})."""
    body = read_body({"email": str, "language": str, "phone": str, "modes": dict})
    commit_reads()
    with db.transaction() as session:
        update_profile(session, me().id, body)
    return jsonify(profile(db.session, me()))
