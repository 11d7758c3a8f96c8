"""An application's audit events of one outcome, read as a test checks them."""

from __future__ import annotations

from sqlalchemy import select

from workflow.db import db
from workflow.models import AuditEvent


def events_of(app_id: int, outcome: str) -> list[AuditEvent]:
    """Oldest first, in a transaction of its own (it sees what the requests committed), detached for reading."""
    with db.transaction() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.application_id == app_id, AuditEvent.outcome == outcome)
            .order_by(AuditEvent.seq)
        ).all()
        session.expunge_all()
        return list(rows)
