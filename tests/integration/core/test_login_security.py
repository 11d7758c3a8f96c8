"""Brute force and sessions (issue 10 items 1 and 3): lockout per account, a rate limit per client, audited logins,
common passwords refused, and sessions and tokens that logout, deactivation and idleness end."""

from __future__ import annotations

import datetime as dt
import itertools
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from tests import factories
from tests.factories import PASSWORD
from web.core import extensions
from web.core.config import from_environment
from web.core.security import password_problem
from workflow.accounts import ApiToken, User
from workflow.db import as_utc, db, utcnow
from workflow.models import AuditEvent

# The numbers: "lock an account after 5 failures for 30 minutes".
FAILURES_THAT_LOCK = 5
LOCKED_MINUTES = 30
_addresses = itertools.count(1)


def _client_address() -> str:
    """A client address no other test uses, so the per-client limit counts this test's requests only."""
    n = next(_addresses)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def page_login(client: Any, username: str, password: str, **kwargs: Any) -> Any:
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def api_login(client: Any, username: str, password: str, **kwargs: Any) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password}, **kwargs)


def events(outcome: str, username: str) -> list[AuditEvent]:
    with db.transaction() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.outcome == outcome, AuditEvent.actor == username)
        ).all()
        session.expunge_all()
    return list(rows)


def user_row(user: User) -> User:
    with db.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        session.expunge(row)
    return row


def invoke(runner: Any, command: str, input: str | None = None) -> Any:
    return runner.invoke(args=shlex.split(command), input=input)


@pytest.fixture
def shipped_rate_limit(app: Any) -> Iterator[str]:
    """The login limit as shipped (not the suite's raised one) for the length of a test."""
    raised = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = shipped = from_environment()["LOGIN_RATE_LIMIT"]
    yield shipped
    app.config["LOGIN_RATE_LIMIT"] = raised


# --- item 1: brute force ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", [page_login, api_login], ids=["page", "api"])
def test_forty_wrong_passwords_then_the_right_one_does_not_log_in(client, login):
    """The probe: 40 wrong passwords in a few seconds, then the right one, gave 200 and a session."""
    user = factories.make_user("applicant", organisation=factories.make_org())
    for n in range(40):
        assert login(client, user.username, f"wrong password {n}").status_code in (200, 401)
    right = login(client, user.username, PASSWORD)
    if login is page_login:
        assert right.status_code == 200 and "连续 5 次登录失败后" in right.text  # the login page again
        assert client.get("/applications").status_code == 302
    else:
        assert right.status_code == 401 and right.get_json()["code"] == "invalid_credentials"


def test_five_failures_lock_the_account_for_thirty_minutes_four_do_not(client):
    user = factories.make_user("applicant", organisation=factories.make_org())
    for _ in range(FAILURES_THAT_LOCK - 1):
        page_login(client, user.username, "not the password")
    assert user_row(user).locked_until is None
    assert page_login(client, user.username, PASSWORD).status_code == 303  # four are forgiven by a success
    client.post("/logout")

    before = utcnow()
    for _ in range(FAILURES_THAT_LOCK):
        page_login(client, user.username, "not the password")
    locked_until = user_row(user).locked_until
    assert locked_until is not None
    assert abs(as_utc(locked_until) - before - dt.timedelta(minutes=LOCKED_MINUTES)) < dt.timedelta(minutes=1)
    assert page_login(client, user.username, PASSWORD).status_code == 200

    # Thirty minutes later the account opens again.
    with db.transaction() as session:
        session.execute(update(User).where(User.id == user.id).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    assert page_login(client, user.username, PASSWORD).status_code == 303


def test_the_count_is_per_account_so_a_spoofed_forwarded_for_resets_nothing(client):
    user = factories.make_user("applicant", organisation=factories.make_org())
    for n in range(FAILURES_THAT_LOCK):
        page_login(
            client,
            user.username,
            "guess",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
            environ_base={"REMOTE_ADDR": _client_address()},
        )
    fresh = {"X-Forwarded-For": "198.51.100.7"}
    assert api_login(client, user.username, PASSWORD, headers=fresh).status_code == 401
    assert user_row(user).locked_until is not None


def test_every_login_failure_lockout_and_unlock_is_audited(client, runner):
    user = factories.make_user("applicant", organisation=factories.make_org())
    assert page_login(client, user.username, PASSWORD).status_code == 303
    client.post("/logout")
    for _ in range(FAILURES_THAT_LOCK):
        api_login(client, user.username, "wrong")
    page_login(client, "no-such-account", "whatever it is")

    assert [e.payload["channel"] for e in events("logged_in", user.username)] == ["page"]
    assert len(events("logged_out", user.username)) == 1
    failures = events("login_failed", user.username)
    assert [e.payload["reason"] for e in failures] == ["wrong_password"] * FAILURES_THAT_LOCK
    assert all(e.application_id is None and e.actor_id == user.id for e in failures)
    assert len(events("locked_out", user.username)) == 1
    unknown = events("login_failed", "no-such-account")
    assert [(e.role, e.payload["reason"]) for e in unknown] == [("anonymous", "unknown_user")]

    result = invoke(runner, f"users unlock {user.username}")
    assert result.exit_code == 0, result.output
    assert "unlocked" in result.output
    with db.transaction() as session:
        unlocked = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "unlocked")).all()
        assert [e.payload["username"] for e in unlocked if e.payload["username"] == user.username] == [user.username]
    assert page_login(client, user.username, PASSWORD).status_code == 303


def test_users_unlock_names_an_unknown_user(runner):
    result = invoke(runner, "users unlock nobody-here")
    assert result.exit_code != 0 and "no user 'nobody-here'" in result.output


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/login", lambda u: {"data": {"username": u, "password": "x" * 12}}),
        ("/api/v1/auth/token", lambda u: {"json": {"username": u, "password": "x" * 12}}),
    ],
    ids=["page", "api"],
)
def test_a_client_is_rate_limited_across_accounts(client, shipped_rate_limit, path, body):
    """Per client: a guesser spreading attempts over many accounts (so no account locks) is slowed down."""
    per_minute = int(shipped_rate_limit.split(" per minute")[0])
    guesser, bystander = _client_address(), _client_address()
    answers = [
        client.post(path, environ_base={"REMOTE_ADDR": guesser}, **body(f"account-{n}")).status_code
        for n in range(per_minute + 1)
    ]
    assert 429 not in answers[:per_minute] and answers[per_minute] == 429
    refused = client.post(path, environ_base={"REMOTE_ADDR": guesser}, **body("another"))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    if path.startswith("/api"):
        assert refused.get_json()["code"] == "too_many_requests"
    else:
        assert "尝试次数过多" in refused.text
    assert client.post(path, environ_base={"REMOTE_ADDR": bystander}, **body("account-0")).status_code != 429


@pytest.mark.parametrize("password", ["password12", "qwertyuiop", "1234567890", "woaini1314", "PASSWORD123"])
def test_common_passwords_are_refused(runner, password):
    org = factories.make_org()
    result = invoke(runner, f"users create li.lei --role applicant --org {org.uscc} --password-stdin", password + "\n")
    assert result.exit_code != 0 and "commonly used" in result.output
    assert password_problem(password) is not None


def test_an_uncommon_password_is_accepted():
    assert password_problem("violet harbour 1987 lantern") is None
    assert password_problem("zhang.wei-2026-secret", username="zhang.wei") is not None


# --- item 3: sessions and tokens that end ------------------------------------------------------------------------


def _logged_in(app: Any, user: User) -> Any:
    client = app.test_client()
    assert page_login(client, user.username, PASSWORD).status_code == 303
    return client


def _copy_of(app: Any, client: Any) -> Any:
    """A second browser holding a captured copy of `client`'s session cookie."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_logout_ends_a_captured_copy_of_the_session(app):
    user = factories.make_user("applicant", organisation=factories.make_org())
    browser = _logged_in(app, user)
    thief = _copy_of(app, browser)
    assert thief.get("/applications").status_code == 200
    browser.post("/logout")
    assert thief.get("/applications").status_code == 302


def test_deactivation_ends_sessions_and_tokens_at_once(app, runner):
    user = factories.make_user("applicant", organisation=factories.make_org())
    browser = _logged_in(app, user)
    token = api_login(app.test_client(), user.username, PASSWORD).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert browser.get("/applications").status_code == 200
    assert app.test_client().get("/api/v1/applications", headers=auth).status_code == 200

    result = invoke(runner, f"users deactivate {user.username}")
    assert result.exit_code == 0 and "1 API token(s) were revoked" in result.output
    assert browser.get("/applications").status_code == 302
    assert app.test_client().get("/api/v1/applications", headers=auth).status_code == 401
    assert page_login(app.test_client(), user.username, PASSWORD).status_code == 200
    with db.transaction() as session:
        assert session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)).one() is not None
    deactivations = [e for e in _all("deactivated") if e.payload["username"] == user.username]
    assert len(deactivations) == 1 and deactivations[0].actor.startswith("cli:")


def _all(outcome: str) -> list[AuditEvent]:
    with db.transaction() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.outcome == outcome)).all())
        session.expunge_all()
    return rows


def test_delete_auth_token_revokes_only_the_callers_token(client):
    user = factories.make_user("applicant", organisation=factories.make_org())
    first = {"Authorization": f"Bearer {api_login(client, user.username, PASSWORD).get_json()['token']}"}
    second = {"Authorization": f"Bearer {api_login(client, user.username, PASSWORD).get_json()['token']}"}
    assert client.delete("/api/v1/auth/token", headers=first).status_code == 204
    assert client.get("/api/v1/applications", headers=first).status_code == 401
    assert client.get("/api/v1/applications", headers=second).status_code == 200
    assert client.delete("/api/v1/auth/token").status_code == 401


def test_tokens_revoke_ends_every_token_of_a_user_who_stays_active(app, client, runner):
    user = factories.make_user("applicant", organisation=factories.make_org())
    tokens = [api_login(client, user.username, PASSWORD).get_json()["token"] for _ in range(2)]
    result = invoke(runner, f"tokens revoke {user.username}")
    assert result.exit_code == 0 and "revoked 2 API token(s)" in result.output
    for token in tokens:
        assert client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _logged_in(app, user).get("/applications").status_code == 200


def test_an_idle_session_ends_after_the_idle_timeout(app, monkeypatch):
    user = factories.make_user("applicant", organisation=factories.make_org())
    browser = _logged_in(app, user)
    minutes = int(from_environment()["IDLE_TIMEOUT_MINUTES"])
    assert minutes == 30  # the default
    now = extensions.time.time()
    monkeypatch.setattr(extensions.time, "time", lambda: now + (minutes - 1) * 60)
    assert browser.get("/applications").status_code == 200  # activity restarts the clock
    monkeypatch.setattr(extensions.time, "time", lambda: now + (2 * minutes - 2) * 60)
    assert browser.get("/applications").status_code == 200
    monkeypatch.setattr(extensions.time, "time", lambda: now + (3 * minutes) * 60)
    gone = browser.get("/applications", follow_redirects=True)
    assert "由于长时间未操作" in gone.text


def test_an_idle_token_ends_and_last_used_at_is_kept(client):
    user = factories.make_user("applicant", organisation=factories.make_org())
    token = api_login(client, user.username, PASSWORD).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/applications", headers=auth).status_code == 200
    with db.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
        assert row.last_used_at is not None and utcnow() - as_utc(row.last_used_at) < dt.timedelta(minutes=1)
        row.last_used_at = utcnow() - dt.timedelta(minutes=29)
    assert client.get("/api/v1/applications", headers=auth).status_code == 200
    with db.transaction() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
        # The use 29 minutes later was written down: the idle time counts from it.
        assert utcnow() - as_utc(row.last_used_at) < dt.timedelta(minutes=1)
        row.last_used_at = utcnow() - dt.timedelta(minutes=31)
    answer = client.get("/api/v1/applications", headers=auth)
    assert answer.status_code == 401 and "idle" in answer.get_json()["detail"]
