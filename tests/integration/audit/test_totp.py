"""An optional second factor for staff (issue 16 item 4): TOTP turned on by its owner, asked for at every login after
the password, wrong codes counted toward the lockout and the login rate limit, reset by a security administrator."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from storage import sealed
from tests import factories
from tests.factories import PASSWORD
from tests.support.api import problem
from tests.support.pages import text_of
from web.core.config import from_environment
from workflow.accounts import User
from workflow.db import db, utcnow
from workflow.models import AuditEvent


def _turn_on(app: Any, user: User) -> str:
    """A second factor already on (as after enrolment), no code used yet; its secret."""
    secret = pyotp.random_base32()
    with db.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        row.totp_secret = sealed.sealer(app.config["FIELD_ENCRYPTION_KEYS"]).seal(secret)
        row.totp_enabled_at = utcnow()
    return secret


def _row(user: User) -> User:
    with db.transaction() as session:
        row = session.get(User, user.id)
        assert row is not None
        session.expunge(row)
    return row


def _events(outcome: str, actor: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.outcome == outcome)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    with db.transaction() as session:
        rows = session.scalars(query.order_by(AuditEvent.seq)).all()
        session.expunge_all()
    return list(rows)


def _password(client: Any, user: User, **environ: Any) -> Any:
    return client.post("/login", data={"username": user.username, "password": PASSWORD}, environ_base=environ)


def _logged_in(client: Any) -> bool:
    return client.get("/inbox").status_code == 200


def _address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def test_a_staff_member_turns_it_on_with_a_real_code(app, cast):
    """The page shows the secret grouped for typing and as an otpauth URI; a wrong code leaves it off, the
    authenticator's code turns it on (audited); the secret is stored sealed, never as typed."""
    user = factories.make_user("municipal_reviewer")
    client = app.test_client()
    assert _password(client, user).status_code == 303
    assert 'id="two-factor-off"' in client.get("/account/two-factor").text
    assert client.post("/account/two-factor/enrol").status_code == 303
    page = client.get("/account/two-factor")
    assert page.headers["Cache-Control"] == "no-store"
    shown = re.search(r'<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>', page.text)
    assert shown and re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", shown.group(1))
    secret = shown.group(1).replace(" ", "")
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', page.text)
    assert uri and f"secret={secret}" in uri.group(1)
    stored = _row(user).totp_secret
    assert stored and secret not in stored
    assert sealed.sealer(app.config["FIELD_ENCRYPTION_KEYS"]).open(stored) == secret

    wrong = pyotp.TOTP(secret).at(time.time() - 300)
    client.post("/account/two-factor/confirm", data={"code": wrong})
    assert _row(user).totp_enabled_at is None
    client.post("/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert _row(user).totp_enabled_at is not None
    assert 'id="two-factor-on"' in client.get("/account/two-factor").text
    assert [e.actor for e in _events("totp_enabled")] == [user.username]


def test_an_applicant_has_no_second_factor_page(app, cast):
    client = app.test_client()
    assert _password(client, cast.applicant).status_code == 303
    assert client.get("/account/two-factor").status_code == 404
    assert client.post("/account/two-factor/enrol").status_code == 404


def test_the_login_asks_for_the_code_after_the_password(app, cast):
    """The password alone does not log in; a code from another window is refused; the current one logs in, once."""
    secret = _turn_on(app, cast.finance_officer)
    client = app.test_client()
    asked = _password(client, cast.finance_officer)
    assert asked.status_code == 303 and asked.headers["Location"].endswith("/login/code")
    assert not _logged_in(client)
    assert "6" in text_of(client.get("/login/code"))

    totp = pyotp.TOTP(secret)
    for stale in (totp.at(time.time() - 90), totp.at(time.time() + 90)):  # three steps away: outside the window
        refused = client.post("/login/code", data={"code": stale})
        assert refused.status_code == 200 and not _logged_in(client)
    assert [e.payload["reason"] for e in _events("login_failed", cast.finance_officer.username)] == [
        "wrong_code",
        "wrong_code",
    ]
    code = totp.now()
    done = client.post("/login/code", data={"code": code})
    assert done.status_code == 303 and _logged_in(client)
    assert _events("logged_in", cast.finance_officer.username)[-1].payload["second_factor"] == "totp"

    again = app.test_client()
    _password(again, cast.finance_officer)
    assert again.post("/login/code", data={"code": code}).status_code == 200  # the same code cannot be used twice
    assert not _logged_in(again)


def test_the_code_step_without_a_password_logs_no_one_in(app, cast):
    _turn_on(app, cast.finance_officer)
    client = app.test_client()
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not _logged_in(client)


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, cast):
    """LOCKOUT_FAILURES wrong codes in a row lock the account: then even the right code is refused."""
    secret = _turn_on(app, cast.municipal_reviewer)
    client = app.test_client()
    _password(client, cast.municipal_reviewer)
    for _ in range(int(app.config["LOCKOUT_FAILURES"])):
        client.post("/login/code", data={"code": pyotp.TOTP(secret).at(time.time() - 600)})
    assert _row(cast.municipal_reviewer).locked_until is not None
    assert [e.actor for e in _events("locked_out")] == [cast.municipal_reviewer.username]
    client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert not _logged_in(client)


@pytest.fixture
def shipped_rate_limit(app: Any) -> Iterator[str]:
    raised = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = shipped = from_environment()["LOGIN_RATE_LIMIT"]
    yield shipped
    app.config["LOGIN_RATE_LIMIT"] = raised


def test_codes_and_passwords_share_the_clients_login_rate_limit(app, cast, shipped_rate_limit):
    """Per client, one count for /login and /login/code: a guesser cannot try codes beyond the login limit."""
    per_minute = int(shipped_rate_limit.split(" per minute")[0])
    secret = _turn_on(app, cast.agency_coordinator)
    guesser = _address()
    client = app.test_client()
    assert _password(client, cast.agency_coordinator, REMOTE_ADDR=guesser).status_code == 303
    answers = [
        client.post("/login/code", data={"code": "000000"}, environ_base={"REMOTE_ADDR": guesser}).status_code
        for _ in range(per_minute - 1)
    ]
    assert 429 not in answers
    right = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()}, environ_base={"REMOTE_ADDR": guesser})
    assert right.status_code == 429


def test_an_api_token_needs_the_code_too(app, client, cast):
    """POST /auth/token: without the code, or with a stale one, 401 (and a failure counted); with it, a token."""
    secret = _turn_on(app, cast.expert)
    body = {"username": cast.expert.username, "password": PASSWORD}
    problem(client.post("/api/v1/auth/token", json=body), 401, "invalid_credentials")
    stale = pyotp.TOTP(secret).at(time.time() - 90)
    problem(client.post("/api/v1/auth/token", json={**body, "code": stale}), 401, "invalid_credentials")
    assert _row(cast.expert).failed_logins == 2
    issued = client.post("/api/v1/auth/token", json={**body, "code": pyotp.TOTP(secret).now()})
    assert issued.status_code == 200 and issued.get_json()["token"]


def test_a_security_administrator_resets_another_accounts_second_factor(app, cast):
    """A lost phone: the security administrator resets it (audited); the account then logs in with its password.
    Nobody else may, and a security administrator cannot reset their own."""
    _turn_on(app, cast.district_reviewer)
    _turn_on(app, cast.security_admin)
    target = _row(cast.district_reviewer)

    for role in ("admin", "auditor", "district_reviewer"):
        other = app.test_client()
        _password(other, cast.by_role[role])
        if role == "district_reviewer":
            continue  # its own second factor is on: it is not even logged in
        assert other.get("/security/two-factor").status_code == 404
        assert other.post(f"/security/two-factor/{target.id}/reset").status_code == 404
    assert _row(cast.district_reviewer).totp_enabled_at is not None

    secadmin = app.test_client()
    _password(secadmin, cast.security_admin)
    assert secadmin.post("/login/code", data={"code": pyotp.TOTP(_secret_of(app, cast.security_admin)).now()})
    listed = secadmin.get("/security/two-factor")
    assert listed.status_code == 200 and f'data-username="{target.username}"' in listed.text
    secadmin.post(f"/security/two-factor/{cast.security_admin.id}/reset")
    assert _row(cast.security_admin).totp_enabled_at is not None  # not their own
    secadmin.post(f"/security/two-factor/{target.id}/reset")
    assert _row(cast.district_reviewer).totp_secret is None
    [event] = _events("totp_reset")
    assert (event.actor, event.payload) == (cast.security_admin.username, {"username": target.username, "was_on": True})

    after = app.test_client()
    assert _password(after, cast.district_reviewer).headers["Location"].endswith("/desk")
    assert _logged_in(after)


def _secret_of(app: Any, user: User) -> str:
    stored = _row(user).totp_secret
    assert stored is not None
    return sealed.sealer(app.config["FIELD_ENCRYPTION_KEYS"]).open(stored)
