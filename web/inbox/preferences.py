"""A reader's mail settings: the address, the language mail is written in, a phone number for deadline texts, and
how each kind of notification comes (at once, in the day's digest, never; deadlines always at once)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from notifications import operations
from notifications.kinds import KINDS
from workflow.accounts import LANGUAGES, User
from workflow.errors import InvalidInput, NotFound, Problem

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,30}$")


def profile(session: Session, user: User) -> dict[str, Any]:
    modes = operations.preferences(session, user.id)
    return {
        "email": user.email,
        "language": user.language,
        "phone": user.phone,
        "modes": modes,
        "kinds": [
            {"kind": name, "label": {"zh": kind.zh, "en": kind.en}, "deadline": kind.deadline, "mode": modes[name]}
            for name, kind in KINDS.items()
        ],
    }


def check(body: dict[str, Any]) -> list[Problem]:
    problems = []
    email = body.get("email")
    if email is not None and email.strip() and (len(email) > 254 or not EMAIL.match(email.strip())):
        problems.append(Problem("email", "invalid_email", f"not an e-mail address: '{email[:80]}'"))
    if "language" in body and body["language"] not in LANGUAGES:
        problems.append(Problem("language", "invalid_language", f"language is zh or en, not '{body['language']}'"))
    phone = body.get("phone")
    if phone is not None and phone.strip() and not PHONE.match(phone.strip()):
        problems.append(Problem("phone", "invalid_phone", f"not a phone number: '{phone[:40]}'"))
    for name, mode in (body.get("modes") or {}).items():
        if not isinstance(mode, str):
            problems.append(Problem(f"modes.{name}", "invalid_mode", f"{name}: the mode is a string"))
    return problems


def update_profile(session: Session, user_id: int, body: dict[str, Any]) -> User:
    """Apply the changes in `body` (email, language, phone, modes) to the reader's own settings."""
    problems = check(body)
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if "email" in body:
        user.email = body["email"].strip() or None
    if "language" in body:
        user.language = body["language"]
    if "phone" in body:
        user.phone = body["phone"].strip() or None
    if body.get("modes"):
        operations.set_preferences(session, user, body["modes"])
    session.flush()
    return user
