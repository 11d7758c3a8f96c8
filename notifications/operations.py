"""Who hears of a transition: the applicant's people, and everyone who may act next."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notifications.models import Notification
from workflow.accounts import SYSTEM, User
from workflow.engine import allowed_triggers
from workflow.models import Application, Assignment, AuditEvent
from workflow.visibility import can_see, get_visible, programme_definitions


def recipients(session: Session, application: Application) -> dict[int, str]:
    """user id -> kind: 'your_turn' for whoever may fire a trigger now, else 'status_changed'."""
    definition = programme_definitions(session)[application.programme_version_id]
    roles = {r for t in definition.from_state(application.state) for r in t.roles}
    out: dict[int, str] = {}
    # Narrow in SQL first (applicants of this unit, experts on this panel); visibility then decides.
    assigned = select(Assignment.user_id).where(Assignment.application_id == application.id)
    candidates = session.scalars(
        select(User).where(
            User.active.is_(True),
            or_(
                and_(User.role == "applicant", User.organisation_id == application.organisation_id),
                and_(User.role == "expert", User.id.in_(assigned)),
                User.role.in_(roles - {"applicant", "expert"}),
            ),
        )
    )
    for user in candidates:
        if not can_see(session, user, application.id):
            continue
        if allowed_triggers(session, application, user, definition):
            out[user.id] = "your_turn"
        elif user.role == "applicant":
            out[user.id] = "status_changed"
    return out


def notify_transition(session: Session, application_id: int, event_seq: int) -> int:
    """Write the in-app notifications for one audit event; running it twice adds nothing."""
    application = get_visible(session, SYSTEM, application_id)
    event = session.get(AuditEvent, event_seq)
    if application is None or event is None:
        return 0
    people = recipients(session, application)
    definition = programme_definitions(session)[application.programme_version_id]
    if event.outcome == "transition" and definition.visibility_of(event.trigger, event.from_state) == "hidden":
        # Not even the fact reaches the applicant's inbox (a draft award, its send-back): see operations.shown_to.
        applicants = set(session.scalars(select(User.id).where(User.id.in_(people), User.role == "applicant")))
        people = {uid: kind for uid, kind in people.items() if uid not in applicants}
    if not people:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [
        {"user_id": uid, "application_id": application_id, "event_seq": event_seq, "kind": kind}
        for uid, kind in sorted(people.items())
    ]
    session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
    return len(rows)


def unread(session: Session, user_id: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .order_by(Notification.id.desc())
        )
    )
