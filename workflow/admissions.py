"""Late admission: an administrator admits one application's submission after its round's window closed, with the
reason recorded and audited; the window guard (workflow.guards.within_application_window) then lets it through."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.accounts import SYSTEM, Actor
from workflow.errors import Forbidden, InvalidInput, Problem
from workflow.round_models import LateAdmission
from workflow.visibility import programme_definitions, visible_or_not_found

ADMITTERS = frozenset({"admin"})
MAX_REASON = 2000


def admission_of(session: Session, application_id: int) -> LateAdmission | None:
    return session.scalars(select(LateAdmission).where(LateAdmission.application_id == application_id)).one_or_none()


def admit_late(session: Session, actor: Actor, application_id: int, reason: str) -> LateAdmission:
    """Admit the application's late submission; the reason is required and goes into the audit chain."""
    if actor.role not in ADMITTERS:
        raise Forbidden(f"only an administrator admits a late submission; {actor.username} is {actor.role}")
    definitions = programme_definitions(session)
    # Loaded as the system: a draft is the applicant's alone (workflow.visibility), and a late submission is one.
    # The administrator learns nothing of its content here, only that the number may now be submitted.
    app = visible_or_not_found(session, SYSTEM, application_id, lock=True, definitions=definitions)
    definition = definitions[app.programme_version_id]
    reason = (reason or "").strip()
    problems = []
    if not reason:
        problems.append(Problem("reason", "required", "准予逾期提交须写明理由"))
    elif len(reason) > MAX_REASON:
        problems.append(Problem("reason", "too_long", f"理由至多 {MAX_REASON} 字，不是 {len(reason)} 字"))
    if definition.window is None:
        message = f"申报 {app.id} 所属的 {definition.label} 没有申报窗口，无需准予逾期提交"
        problems.append(Problem("application_id", "no_window", message))
    if app.submitted_at is not None:
        problems.append(Problem("application_id", "already_submitted", f"申报 {app.id} 已经提交，无需准予逾期提交"))
    if admission_of(session, app.id) is not None:
        problems.append(Problem("application_id", "already_admitted", f"申报 {app.id} 已获准逾期提交"))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    row = LateAdmission(application_id=app.id, reason=reason, admitted_by_id=actor.id)
    session.add(row)
    session.flush()
    window = definition.window
    payload = {"reason": reason, "closes": window.closes.isoformat() if window and window.closes else None}
    audit.note(session, actor, app, "late_admitted", payload, definition=definition.label)
    return row
