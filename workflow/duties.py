"""Separation of duties (等保 level 2, 三员分立): who may change an account's role, and what no one may do to their own.

The system administrator (`admin`) manages accounts; the security administrator (`security_admin`) looks after
logins (a second factor reset); the auditor (`auditor`) reads and verifies the audit. No one changes their own role:
an administrator cannot make themselves the auditor, and an auditor cannot make themselves an administrator.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflow import audit
from workflow.accounts import ROLES, Actor, User
from workflow.errors import Forbidden, InvalidInput, Problem

ADMIN = "admin"
SECURITY_ADMIN = "security_admin"
AUDITOR = "auditor"


class SeparationOfDuties(Forbidden):
    """A change that would let one person hold two of the three duties, or grant themselves anything (a 403)."""


def change_role(
    session: Session,
    user: User,
    role: str,
    by: Actor,
    district: str | None = None,
    request_id: str | None = None,
) -> str:
    """Give `user` another role (audited); the role it had. Only an administrator may, and never on their own account.

    The account's page sessions end, so the new role's first page is a fresh login.
    """
    if role not in ROLES:
        raise InvalidInput(f"no role '{role}'", [Problem("role", "unknown", f"the roles are {', '.join(ROLES)}")])
    if role == "district_reviewer" and not (district or user.district):
        raise InvalidInput(
            "a district reviewer needs a district", [Problem("district", "required", "give the reviewer's district")]
        )
    if by.id is not None and by.id == user.id:
        raise SeparationOfDuties(
            "no one changes their own role (separation of duties): another administrator must do it"
        )
    if by.role != ADMIN:
        raise SeparationOfDuties(f"only a system administrator (admin) changes roles; {by.role} may not")
    before = user.role
    user.role = role
    # Only a district reviewer has a district (its scope).
    user.district = (district or user.district) if role == "district_reviewer" else None
    user.session_generation += 1
    audit.append(
        session,
        actor=by,
        outcome="role_changed",
        application_id=None,
        payload={"username": user.username, "from": before, "to": role},
        request_id=request_id,
    )
    return before


def may_reset_second_factor(by: Actor, user: User) -> None:
    """A security administrator resets another account's second factor; never their own (a stolen session could)."""
    if by.role != SECURITY_ADMIN:
        raise SeparationOfDuties(
            f"only a security administrator (security_admin) resets a second factor; {by.role} may not"
        )
    if by.id is not None and by.id == user.id:
        raise SeparationOfDuties("no one resets their own second factor: another security administrator must do it")
