"""An optional second factor for staff (issue 16 item 4): TOTP (RFC 6238, 6 digits, 30 s), the secret sealed with
FIELD_ENCRYPTION_KEYS like the other values kept encrypted (storage.sealed), each code accepted once.

Enrolment is two steps: a secret is made and shown (grouped, and as an otpauth URI), then a code from the
authenticator turns it on. From then on a login asks for a code after the password. A security administrator resets
another account's second factor (audited), never their own (workflow.duties).
"""

from __future__ import annotations

import hmac
import time

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.sealed import Sealer
from workflow import audit, duties
from workflow.accounts import Actor, User
from workflow.db import utcnow
from workflow.errors import InvalidInput, Problem

ISSUER = "EMC 上海节能专项资金"
STEP_SECONDS = 30
# Codes of the step before and after now are accepted too: an authenticator's clock may drift by a few seconds.
DRIFT_STEPS = 1
STAFF_EXCLUDED = ("applicant",)


def eligible(user: User) -> bool:
    """Every staff role may turn it on; applicants log in with their password alone."""
    return user.role not in STAFF_EXCLUDED


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an authenticator by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def _normalised(code: str | None) -> str:
    return "".join((code or "").split())


def accepted_step(secret: str, code: str | None, last_step: int | None, now: float | None = None) -> int | None:
    """The time step `code` is right for (now, or one step either side), unless that step was already used."""
    code = _normalised(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate is compared, in constant time, so timing says nothing about which step matched.
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code) and (last_step is None or step > last_step):
            return step
    return None


def check_code(user: User, sealer: Sealer, code: str | None) -> bool:
    """Whether `code` is the account's current code; an accepted code's step is spent (it cannot be used again)."""
    if not enabled(user) or user.totp_secret is None:
        return False
    step = accepted_step(sealer.open(user.totp_secret), code, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def begin(session: Session, user: User, sealer: Sealer) -> str:
    """A new secret for `user` (not in use until confirmed); the secret, to show once."""
    if not eligible(user):
        raise InvalidInput("applicants have no second factor", [Problem("role", "not_staff", "staff only")])
    if enabled(user):
        raise InvalidInput(
            "the second factor is already on; a security administrator resets it",
            [Problem("totp", "already_enabled", "already on")],
        )
    secret = pyotp.random_base32()
    user.totp_secret = sealer.seal(secret)
    user.totp_enabled_at = None
    user.totp_last_step = None
    return secret


def pending_secret(user: User, sealer: Sealer) -> str | None:
    """The secret of an enrolment begun and not yet confirmed."""
    if user.totp_secret is None or user.totp_enabled_at is not None:
        return None
    return sealer.open(user.totp_secret)


def confirm(session: Session, user: User, sealer: Sealer, code: str | None, request_id: str | None = None) -> bool:
    """Turn the second factor on with a code from the authenticator (audited); False if the code is wrong."""
    secret = pending_secret(user, sealer)
    if secret is None:
        return False
    step = accepted_step(secret, code, None)
    if step is None:
        return False
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    audit.append(session, actor=user, outcome="totp_enabled", application_id=None, payload={}, request_id=request_id)
    return True


def reset(session: Session, user: User, by: Actor, request_id: str | None = None) -> bool:
    """A security administrator turns another account's second factor off (audited); whether it was on."""
    duties.may_reset_second_factor(by, user)
    was_on = enabled(user)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    audit.append(
        session,
        actor=by,
        outcome="totp_reset",
        application_id=None,
        payload={"username": user.username, "was_on": was_on},
        request_id=request_id,
    )
    return was_on


def reseal_all(session: Session, sealer: Sealer) -> int:
    """Seal every stored secret again with the first key (`manage.py keys rotate`); how many."""
    rows = session.scalars(select(User).where(User.totp_secret.is_not(None)).with_for_update()).all()
    for user in rows:
        assert user.totp_secret is not None
        user.totp_secret = sealer.reseal(user.totp_secret)
    return len(rows)
