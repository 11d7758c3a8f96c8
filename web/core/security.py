"""Passwords (argon2), logins with a per-account lockout, API tokens; every login, failure and lockout audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.sealed import Sealer
from web.core import totp
from workflow import audit
from workflow.accounts import ApiToken, User
from workflow.db import as_utc, utcnow

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10
# Passwords mostly used in Chinese-speaking places that the English-weighted list below misses.
_LOCAL_COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")


@dataclass(frozen=True)
class LockoutPolicy:
    """After `failures` wrong passwords in a row (within `minutes`), the account is locked for `minutes`."""

    failures: int = 5
    minutes: int = 30

    @property
    def period(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Unknown:
    """The actor of an attempt on a username no account has: recorded as typed, not as a user."""

    username: str
    id: None = None
    role: str = "anonymous"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords and the local list, lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    local = [line.strip() for line in _LOCAL_COMMON_PASSWORDS.read_text("utf-8").splitlines()]
    words = [*FREQUENCY_LISTS["passwords"], *(w for w in local if w and not w.startswith("#"))]
    return frozenset(w.lower() for w in words)


def password_problem(password: str, username: str | None = None) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password has at least {MIN_PASSWORD_LENGTH} characters"
    if password.lower() in common_passwords():
        return "this password is on the list of commonly used passwords; choose another"
    if username and username.lower() in password.lower():
        return "a password may not contain the username"
    return None


def _record(session: Session, actor: User | Unknown, outcome: str, request_id: str | None, **payload: object) -> None:
    # An Unknown carries what the chain records of an actor (id, username, role).
    who = cast(Any, actor)
    audit.append(session, actor=who, outcome=outcome, application_id=None, payload=dict(payload), request_id=request_id)


def locked(user: User, now: dt.datetime | None = None) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > (now or utcnow())


def _failed(
    session: Session,
    user: User,
    policy: LockoutPolicy,
    now: dt.datetime,
    reason: str,
    where: dict[str, str],
    request_id: str | None,
) -> None:
    """A wrong password or a wrong second-factor code: counted in a row toward the account's lockout."""
    recent = user.last_failed_at is not None and now - as_utc(user.last_failed_at) < policy.period
    user.failed_logins = (user.failed_logins if recent else 0) + 1
    user.last_failed_at = now
    _record(session, user, "login_failed", request_id, reason=reason, failures=user.failed_logins, **where)
    if user.failed_logins >= policy.failures:
        user.locked_until = now + policy.period
        user.failed_logins = 0
        _record(session, user, "locked_out", request_id, until=as_utc(user.locked_until).isoformat(), **where)


def _logged_in(session: Session, user: User, now: dt.datetime, request_id: str | None, **where: str) -> User:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    _record(session, user, "logged_in", request_id, **where)
    return user


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    policy: LockoutPolicy | None = None,
    channel: str = "page",
    client: str | None = None,
    request_id: str | None = None,
    code: str | None = None,
    sealer: Sealer | None = None,
    code_later: bool = False,
) -> User | None:
    """The user whose password this is, if the account is active and not locked; the attempt is audited.

    An account with a second factor (web.core.totp) also needs its current `code`, or, with `code_later` (the
    pages' two steps), comes back not yet logged in: the caller asks for the code and finishes with `second_step`.
    A wrong code counts toward the lockout like a wrong password. The caller commits even when None comes back:
    the failure count and the audit event must stay.
    """
    policy = policy or LockoutPolicy()
    # Locked for the count: two wrong passwords at once are two failures, not one.
    user = session.scalars(select(User).where(User.username == username).with_for_update()).one_or_none()
    where = {"channel": channel, **({"client": client} if client else {})}
    now = utcnow()
    if user is None:
        check_password(None, password)
        _record(session, Unknown(username[:64]), "login_failed", request_id, reason="unknown_user", **where)
        return None
    if locked(user, now):
        check_password(None, password)  # the same time as any other refusal
        _record(session, user, "login_failed", request_id, reason="locked", **where)
        return None
    if not check_password(user, password):
        _failed(session, user, policy, now, "wrong_password", where, request_id)
        return None
    if not user.active:
        _record(session, user, "login_failed", request_id, reason="deactivated", **where)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if totp.enabled(user):
        if code_later:
            # Half way: the failure count stays until the code is right, so a known password buys no extra guesses.
            _record(session, user, "password_ok", request_id, **where)
            return user
        if sealer is None or not totp.check_code(user, sealer, code):
            _failed(session, user, policy, now, "wrong_code", where, request_id)
            return None
        return _logged_in(session, user, now, request_id, second_factor="totp", **where)
    return _logged_in(session, user, now, request_id, **where)


def second_step(
    session: Session,
    user_id: int,
    code: str | None,
    *,
    sealer: Sealer,
    policy: LockoutPolicy | None = None,
    channel: str = "page",
    client: str | None = None,
    request_id: str | None = None,
) -> User | None:
    """The pages' second step: the user whose password was right, if `code` is their current code (audited)."""
    policy = policy or LockoutPolicy()
    user = session.get(User, user_id, with_for_update=True)
    where = {"channel": channel, **({"client": client} if client else {})}
    now = utcnow()
    if user is None or not user.active or not totp.enabled(user):
        return None
    if locked(user, now):
        _record(session, user, "login_failed", request_id, reason="locked", **where)
        return None
    if not totp.check_code(user, sealer, code):
        _failed(session, user, policy, now, "wrong_code", where, request_id)
        return None
    return _logged_in(session, user, now, request_id, second_factor="totp", **where)


def unlock(session: Session, user: User, by: User | Unknown, request_id: str | None = None) -> bool:
    """Lift a lockout and clear the failure count; False if the account was not locked."""
    was_locked = locked(user)
    user.locked_until = None
    user.failed_logins = 0
    _record(session, by, "unlocked", request_id, username=user.username, was_locked=was_locked)
    return was_locked


def end_sessions(session: Session, user: User) -> None:
    """Every page session of `user`, on every device, stops working at its next request."""
    user.session_generation += 1


def log_out(session: Session, user: User, request_id: str | None = None) -> None:
    """The account logs out: its page sessions end everywhere."""
    end_sessions(session, user)
    _record(session, user, "logged_out", request_id)


def revoke_tokens(
    session: Session, user: User, by: User | Unknown, only: ApiToken | None = None, request_id: str | None = None
) -> list[int]:
    """Revoke the user's live API tokens (or just `only`), audited; the ids revoked."""
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).with_for_update()
    if only is not None:
        query = query.where(ApiToken.id == only.id)
    rows = session.scalars(query).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    revoked = [row.id for row in rows]
    _record(session, by, "token_revoked", request_id, username=user.username, tokens=revoked)
    return revoked


def deactivate(session: Session, user: User, by: User | Unknown, request_id: str | None = None) -> int:
    """Deactivate an account: its sessions end and its tokens are revoked at once; the tokens revoked."""
    user.active = False
    end_sessions(session, user)
    _record(session, by, "deactivated", request_id, username=user.username)
    return len(revoke_tokens(session, user, by, request_id=request_id))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, ttl_hours: int, label: str = "") -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, token_hash=_digest(token), label=label, expires_at=utcnow() + dt.timedelta(hours=ttl_hours)
    )
    session.add(row)
    session.flush()
    return token, row


# last_used_at is written at most this often per token: a busy client does not turn every read into a write.
_TOUCH_EVERY = dt.timedelta(seconds=60)


def live_token(session: Session, token: str, idle: dt.timedelta | None = None) -> tuple[ApiToken, User] | None:
    """The live token and its user, read in one statement: not revoked, not expired, not idle longer than `idle`,
    of an active user. Changes nothing (the caller may be a read-only session): see `touch_due`."""
    found = session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == _digest(token))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.revoked_at is not None or as_utc(row.expires_at) <= now or not user.active:
        return None
    if idle is not None and now - as_utc(row.last_used_at or row.created_at) > idle:
        return None
    return row, user


def touch_due(row: ApiToken) -> bool:
    """Whether the token's last use is worth writing down now (at most once a minute, so reads stay reads)."""
    return row.last_used_at is None or utcnow() - as_utc(row.last_used_at) >= _TOUCH_EVERY


def touch(session: Session, token_id: int) -> None:
    """Record the token's use now (what the idle timeout counts from)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def user_for_token(session: Session, token: str, idle: dt.timedelta | None = None) -> User | None:
    found = live_token(session, token, idle)
    return None if found is None else found[1]
