"""Reading the audit chain: its events, filtered and paged, for the auditor (issue 16 item 4, 等保 level 2 三员分立).

Reading only: nothing here writes, and nothing anywhere edits or removes an event (the database refuses it too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from workflow.accounts import Actor
from workflow.audit import Verification, append, verify
from workflow.models import AuditEvent
from workflow.workdays import SHANGHAI

# The role that reads and verifies the audit, and nothing else (issue 16 item 4).
AUDITOR = "auditor"
# What a verification run is recorded as: the auditor's acts are audited like everyone's.
VERIFIED = "audit_verified"


@dataclass(frozen=True)
class EventFilter:
    """Which events: of one application, by one actor (username), of one kind (outcome), between two Beijing days."""

    application_id: int | None = None
    actor: str | None = None
    kind: str | None = None
    since: dt.date | None = None  # from this day's Beijing midnight
    until: dt.date | None = None  # through the end of this Beijing day

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.application_id is not None:
            found.append(AuditEvent.application_id == self.application_id)
        if self.actor:
            found.append(AuditEvent.actor == self.actor)
        if self.kind:
            found.append(AuditEvent.outcome == self.kind)
        if self.since is not None:
            found.append(AuditEvent.occurred_at >= _beijing_midnight(self.since))
        if self.until is not None:
            found.append(AuditEvent.occurred_at < _beijing_midnight(self.until + dt.timedelta(days=1)))
        return found


def _beijing_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


@dataclass
class EventPage:
    total: int
    page: int
    per_page: int
    events: list[AuditEvent] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def events(session: Session, where: EventFilter, page: int = 1, per_page: int = 50) -> EventPage:
    """The matching events, newest first."""
    conditions = where.conditions()
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return EventPage(total, page, per_page, list(rows))


def kinds(session: Session) -> list[str]:
    """Every kind of event the chain holds, for the filter's choices."""
    return sorted(session.scalars(select(AuditEvent.outcome).distinct()))


def verify_and_record(session: Session, actor: Actor, request_id: str | None = None) -> Verification:
    """Walk the chain, then record that it was verified and what was found (an event of its own, after the walk)."""
    found = verify(session)
    append(
        session,
        actor=actor,
        outcome=VERIFIED,
        application_id=None,
        payload={"ok": found.ok, "checked": found.checked, "broken_seq": found.broken_seq, "reason": found.reason},
        request_id=request_id,
    )
    return found
