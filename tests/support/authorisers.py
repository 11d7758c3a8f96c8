"""The credit authoriser (附件3) as tests enter it, and the rows and events it leaves."""

from __future__ import annotations

from sqlalchemy import select

from applications.models import CreditAuthoriser
from workflow.db import db
from workflow.models import AuditEvent

NUMBER = "11010519491231002X"  # valid (GB 11643), the check character X
PERSON = {"person_name": "张伟", "id_card": NUMBER.lower(), "role": "法人代表"}


def credit_letter_url(app_id: int) -> str:
    return f"/api/v1/applications/{app_id}/documents/credit-authorisation"


def authoriser_rows(app_id: int) -> list[CreditAuthoriser]:
    """The recorded authorisers, oldest first."""
    # Read in a transaction of its own: a db.session read before the requests would not see their writes.
    with db.transaction() as session:
        rows = session.scalars(
            select(CreditAuthoriser).where(CreditAuthoriser.application_id == app_id).order_by(CreditAuthoriser.id)
        ).all()
        session.expunge_all()
        return list(rows)


def audit_events(app_id: int) -> list[AuditEvent]:
    with db.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.application_id == app_id)).all()
        session.expunge_all()
        return list(rows)
