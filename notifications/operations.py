"""Who is told of what: the notifications an audited event makes (with the comment or points addressed to each
reader), the ones a command names its people for, and the inbox they land in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notifications.kinds import KINDS
from notifications.models import MODES, Notification, NotificationPreference
from workflow.accounts import SYSTEM, User
from workflow.db import utcnow
from workflow.engine import awaits
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.models import Application, Assignment, AuditEvent, Deadline
from workflow.operations import history
from workflow.registry import ATTENDANTS
from workflow.visibility import can_see, get_visible, programme_definitions
from workflow.workdays import SHANGHAI


def _invalid(field: str, code: str, message: str) -> InvalidInput:
    return InvalidInput(message, [Problem(field, code, message)])


def occasion_of_event(event_seq: int) -> str:
    return f"event:{event_seq}"


def recipients(session: Session, application: Application) -> dict[int, str]:
    """user id -> kind: 'your_turn' for whoever may fire a trigger now, else 'status_changed' for the applicant's
    people (the other desks are not told of every step they have no part in)."""
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
    # The applicant's turn is a state only they move on (a return, a supplement request); where a desk may act, the
    # applicant's standing options (withdrawing) do not make it theirs.
    applicants_turn = roles - {"system"} <= {"applicant"}
    for user in candidates:
        if not can_see(session, user, application.id):
            continue
        if user.role == "applicant":
            mine = applicants_turn and awaits(session, application, user, definition)
            out[user.id] = "your_turn" if mine else "status_changed"
        elif awaits(session, application, user, definition):
            out[user.id] = "your_turn"
    # Desks whose work in this state is a command, not a transition (a stage names them: review.queues).
    for _name, attending in sorted(ATTENDANTS.items()):
        for user_id in attending(session, application):
            user = session.get(User, user_id)
            if user_id not in out and user is not None and can_see(session, user, application.id):
                out[user_id] = "your_turn"
    return out


def _items(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    lines = []
    for n, item in enumerate(value, start=1):
        text = item.get("text") if isinstance(item, dict) else item
        if text:
            lines.append(f"{n}. {text}")
    return lines


def note_from(payload: dict[str, Any]) -> str:
    """The words of an event a reader should have in front of them: the comment, the points asked for."""
    lines = [str(payload["comment"]).strip()] if str(payload.get("comment") or "").strip() else []
    lines += _items(payload.get("items"))
    return "\n".join(lines)[:4000]


def note_for(session: Session, user: User, application_id: int, event: AuditEvent) -> str:
    """What of `event` is addressed to `user`: for the applicant's people, only what their history shows."""
    if user.role != "applicant":
        return note_from(event.payload or {})
    shown = next((e for e in history(session, user, application_id) if e.seq == event.seq), None)
    return note_from(shown.payload or {}) if shown is not None else ""


def due_on(session: Session, application: Application) -> dt.date | None:
    """The last day (Beijing) to act before the application's open deadline in its state runs out, if it has one."""
    due_at = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.application_id == application.id,
            Deadline.state == application.state,
            Deadline.closed_at.is_(None),
            Deadline.fired_at.is_(None),
        )
    )
    if due_at is None:
        return None
    if due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=dt.UTC)
    return (due_at - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date()


def _row(
    user_id: int,
    occasion: str,
    kind: str,
    *,
    application_id: int | None,
    event_seq: int | None = None,
    note: str = "",
    due: dt.date | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One notification as its insert's values."""
    return {
        "user_id": user_id,
        "application_id": application_id,
        "event_seq": event_seq,
        "occasion": occasion[:120],
        "kind": kind,
        "note": note,
        "due_on": due,
        "data": data or {},
        "created_at": utcnow(),
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert notifications, skipping any (occasion, user) already told; the ids of the new ones."""
    if not rows:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(Notification).values(rows).on_conflict_do_nothing().returning(Notification.id)
    return list(session.scalars(statement))


def notify_transition(session: Session, application_id: int, event_seq: int) -> list[int]:
    """The notifications one audit event makes; running it twice makes none the second time. Their ids."""
    application = get_visible(session, SYSTEM, application_id)
    event = session.get(AuditEvent, event_seq)
    if application is None or event is None:
        return []
    people = recipients(session, application)
    definition = programme_definitions(session)[application.programme_version_id]
    if event.outcome == "transition" and definition.visibility_of(event.trigger, event.from_state) == "hidden":
        # Not even the fact reaches the applicant's inbox (a draft award, its send-back): see operations.shown_to.
        applicants = set(session.scalars(select(User.id).where(User.id.in_(people), User.role == "applicant")))
        people = {uid: kind for uid, kind in people.items() if uid not in applicants}
    if not people:
        return []
    due = due_on(session, application)
    # The reference number (申报编号) the application has from its first submission on: the notification of that
    # submission tells the applicant their number, and every later one names it.
    data = {"reference": application.reference} if application.reference else None
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(people)))}
    rows = [
        _row(
            uid,
            occasion_of_event(event_seq),
            kind,
            application_id=application_id,
            event_seq=event_seq,
            note=note_for(session, users[uid], application_id, event),
            due=due if kind == "your_turn" else None,
            data=data,
        )
        for uid, kind in sorted(people.items())
    ]
    return _insert(session, rows)


def notify_people(
    session: Session, application_id: int, event_seq: int, user_ids: Iterable[int], kind: str, note: str = ""
) -> list[int]:
    """The people a command named hear of its event (an expert drawn before they may see the file, a visit)."""
    occasion = occasion_of_event(event_seq)
    rows = [
        _row(uid, occasion, kind, application_id=application_id, event_seq=event_seq, note=note)
        for uid in sorted(set(user_ids))
    ]
    return _insert(session, rows)


def remind(
    session: Session,
    user_ids: Iterable[int],
    kind: str,
    occasion: str,
    *,
    application_id: int | None = None,
    due: dt.date | None = None,
    data: dict[str, Any] | None = None,
) -> list[int]:
    """A reminder to each of `user_ids`, once per person per `occasion` however often the beat runs."""
    if kind not in KINDS or not KINDS[kind].reminder:
        raise ValueError(f"'{kind}' is not a reminder")
    rows = [
        _row(uid, occasion, kind, application_id=application_id, due=due, data=data) for uid in sorted(set(user_ids))
    ]
    return _insert(session, rows)


# --- the inbox ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxPage:
    entries: list[tuple[Notification, Application | None]]
    total: int
    unread: int
    page: int
    per_page: int


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(session: Session, user: User, page: int = 1, per_page: int = 20, unread_only: bool = False) -> InboxPage:
    """The reader's own notifications, newest first. An application a reader no longer may see is left out of
    what the entry shows (its id stays: the notification was theirs)."""
    if page < 1 or not 1 <= per_page <= 100:
        raise _invalid("page", "out_of_range", f"page ≥ 1 and 1 ≤ per_page ≤ 100, not page={page} per_page={per_page}")
    mine = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        mine = mine.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    rows = list(session.scalars(mine.order_by(Notification.id.desc()).offset((page - 1) * per_page).limit(per_page)))
    entries = [
        (row, get_visible(session, user, row.application_id) if row.application_id is not None else None)
        for row in rows
    ]
    return InboxPage(entries, total, unread_count(session, user.id), page, per_page)


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:  # someone else's is not found, as if it did not exist
        raise NotFound(f"notification {notification_id} not found")
    if row.read_at is None:
        row.read_at = utcnow()
    return row


def mark_all_read(session: Session, user: User) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- preferences ----------------------------------------------------------------------------------------------------


def preferences(session: Session, user_id: int) -> dict[str, str]:
    """kind -> mode for every kind: what the reader chose, else 'immediate'; deadlines are always 'immediate'."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {name: "immediate" if kind.deadline else chosen.get(name, "immediate") for name, kind in KINDS.items()}


def set_preferences(session: Session, user: User, modes: dict[str, str]) -> dict[str, str]:
    """Set some kinds' modes; a deadline kind cannot be turned off or held (it always goes at once)."""
    for name, mode in modes.items():
        if name not in KINDS:
            raise _invalid(name, "unknown_kind", f"no notification kind '{name}' (one of {', '.join(KINDS)})")
        if mode not in MODES:
            raise _invalid(name, "invalid_mode", f"{name}: mode must be one of {', '.join(MODES)}, not '{mode}'")
        if KINDS[name].deadline and mode != "immediate":
            raise _invalid(name, "deadline_always_sent", f"{name} is a deadline: it is always sent at once")
    for name, mode in modes.items():
        row = session.get(NotificationPreference, (user.id, name))
        if row is None:
            session.add(NotificationPreference(user_id=user.id, kind=name, mode=mode))
        else:
            row.mode = mode
    session.flush()
    return preferences(session, user.id)
