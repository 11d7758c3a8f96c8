"""Separation of duties (issue 16 item 4, 等保 level 2 三员分立): the administrator cannot alter the audit, the auditor
changes nothing, and no one changes their own role."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests import factories
from tests.support.api import bearer
from tests.support.pages import log_in
from tests.support.shell import cli_tree, url_map
from workflow import duties
from workflow.accounts import User
from workflow.db import db
from workflow.models import AuditEvent
from workflow.schema import metadata as all_tables

# What an auditor may still post: their own session (log in and out, an API token), their own second factor, and
# their own notifications' read marks and mail settings. None of these touches an application or the audit.
PERSONAL = {
    "POST /login",
    "POST /login/code",
    "POST /logout",
    "POST /api/v1/auth/token",
    "DELETE /api/v1/auth/token",
    "POST /account/two-factor/enrol",
    "POST /account/two-factor/confirm",
    "POST /inbox/<int:notification_id>/read",
    "POST /inbox/read-all",
    "POST /inbox/preferences",
    "POST /api/v1/inbox/<int:notification_id>/read",
    "POST /api/v1/inbox/read-all",
    "PUT /api/v1/inbox/preferences",
}
AUDIT_AREA = {"POST /audit/verify", "POST /api/v1/audit/verify"}
# Posts that only print what the reader may read: an application's binder is built for anyone who can see it (a
# document to read; the application, its files and the audit are unchanged but for the event recording the request).
PRINTOUTS = {"POST /applications/<int:application_id>/binder"}
# Rows a refused request may still add or touch: denied attempts are audited, and a bearer token notes its use.
NOT_FINGERPRINTED = {"audit_events", "audit_head", "api_tokens"}


def _fingerprint() -> str:
    """Every row of every table the app writes (but the audit and the tokens), as one digest."""
    digest = hashlib.sha256()
    with db.transaction() as session:
        for table in all_tables().sorted_tables:
            if table.name in NOT_FINGERPRINTED:
                continue
            rows = session.execute(select(table)).all()
            digest.update(table.name.encode())
            digest.update(repr(sorted(repr(tuple(r)) for r in rows)).encode())
    return digest.hexdigest()


def _last_seq() -> int:
    with db.transaction() as session:
        return int(session.execute(text("SELECT coalesce(max(seq), 0) FROM audit_events")).scalar_one())


def _path(rule: str, application_id: int) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        if name == "application_id":
            return str(application_id)
        if name == "trigger":
            return "pass_prereview"
        if name == "code":
            return "emc-acceptance"
        return "1"

    return re.sub(r"<([^>]+)>", fill, rule)


def test_the_auditor_is_refused_every_change_outside_the_audit(app, client, cast):
    """Every non-GET route of the app (from its URL map) as the auditor, on an application it can read: nothing in
    the database changes, the API never answers 2xx, and the only events written are denied attempts."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    version = factories.state_of(app_id)[1]
    pages = log_in(app, cast.auditor)
    headers = bearer(client, cast.auditor)
    routes = [r for r in url_map(app) if not r.startswith("GET ")]
    assert len(routes) > 40  # the map is really read
    checked = []
    for route in routes:
        if route in PERSONAL or route in AUDIT_AREA or route in PRINTOUTS:
            continue
        method, rule = route.split(" ", 1)
        path = _path(rule, app_id)
        before, seq = _fingerprint(), _last_seq()
        if rule.startswith("/api/"):
            body = {"trigger": "pass_prereview", "expected_version": version, "comment": "ok", "name": "x"}
            response = client.open(path, method=method, json=body, headers={**headers, "If-Match": str(version)})
            assert not 200 <= response.status_code < 300, f"{route}: {response.status_code}"
        else:
            response = pages.open(path, method=method, data={"expected_version": str(version), "comment": "ok"})
            assert response.status_code in (302, 303, 400, 403, 404, 405, 409, 413, 415, 422), route
        assert _fingerprint() == before, f"{route} changed the database for the auditor"
        with db.transaction() as session:
            written = session.scalars(
                select(AuditEvent.outcome).where(AuditEvent.seq > seq, AuditEvent.actor == cast.auditor.username)
            ).all()
        assert set(written) <= {"denied"}, f"{route}: {written}"
        checked.append(route)
    assert "POST /applications/<int:application_id>/transitions/<trigger>" in checked
    assert "POST /api/v1/applications/<int:application_id>/transitions" in checked


def test_no_route_and_no_command_alters_the_audit(app):
    """The audit area's only non-GET routes are the two verifications, and the audit commands only read."""
    audit_routes = {r for r in url_map(app) if " /audit" in r or " /api/v1/audit" in r}
    assert {r for r in audit_routes if not r.startswith("GET ")} == AUDIT_AREA
    assert set(cli_tree(app)["audit"]["commands"]) == {"verify", "head"}


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_an_audit_event(cast, statement):
    """As the app's own database user, on SQLite and PostgreSQL alike: UPDATE and DELETE are refused (triggers)."""
    factories.new_application(cast, attach=False)
    before = _last_seq()
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text(statement))
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM audit_events WHERE actor = 'mallory'")).scalar() == 0
    assert _last_seq() == before


@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_audit(cast):
    """TRUNCATE fires no row trigger: a statement trigger refuses it (migration 0021)."""
    factories.new_application(cast, attach=False)
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text("TRUNCATE audit_events"))
    assert _last_seq() > 0


# --- roles -----------------------------------------------------------------------------------------------------------


def _row(user: User) -> Any:
    with db.transaction() as session:
        row = session.get(User, user.id)
        session.expunge(row)
    return row


@pytest.mark.parametrize(("who", "role"), [("admin", "auditor"), ("admin", "security_admin"), ("auditor", "admin")])
def test_no_one_changes_their_own_role(cast, who, role):
    """An administrator cannot make themselves the auditor; the auditor cannot make themselves an administrator."""
    user = cast.by_role[who]
    with pytest.raises(duties.SeparationOfDuties, match="no one changes their own role"), db.transaction() as session:
        row = session.get(User, user.id)
        duties.change_role(session, row, role, row)
    assert _row(user).role == who


def test_only_an_administrator_changes_roles_and_it_is_audited(cast):
    """The auditor and the security administrator cannot grant anyone anything; an administrator can, for others."""
    target = factories.make_user("municipal_reviewer")
    for role in ("auditor", "security_admin"):
        refused = pytest.raises(duties.SeparationOfDuties, match="only a system administrator")
        with refused, db.transaction() as session:
            by = session.get(User, cast.by_role[role].id)
            duties.change_role(session, session.get(User, target.id), "admin", by)
    generation = _row(target).session_generation
    with db.transaction() as session:
        before = duties.change_role(session, session.get(User, target.id), "auditor", session.get(User, cast.admin.id))
    assert before == "municipal_reviewer"
    row = _row(target)
    assert row.role == "auditor" and row.session_generation == generation + 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "role_changed")).one()
    assert (event.actor, event.payload) == (
        cast.admin.username,
        {"username": target.username, "from": "municipal_reviewer", "to": "auditor"},
    )


def test_the_users_role_command_refuses_a_change_to_ones_own_role(runner, cast):
    """`manage.py users role U ROLE --by ADMIN`: the same rule through the command line, with a clear error."""
    own = runner.invoke(args=["users", "role", cast.admin.username, "auditor", "--by", cast.admin.username])
    assert own.exit_code != 0 and "no one changes their own role" in own.output
    auditor = runner.invoke(args=["users", "role", cast.auditor.username, "admin", "--by", cast.auditor.username])
    assert auditor.exit_code != 0 and "own role" in auditor.output
    assert _row(cast.admin).role == "admin" and _row(cast.auditor).role == "auditor"
    other = factories.make_user("expert")
    done = runner.invoke(args=["users", "role", other.username, "auditor", "--by", cast.admin.username])
    assert done.exit_code == 0, done.output
    assert _row(other).role == "auditor"
