"""The award card on an application's page: the programme's rule (a local setting), what it computes for this
form and how, and the award and payment as they stand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from review import awards
from review.models import Award, Payment
from web.core.pages import lang, local_time
from web.funding import ledger
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import Definition
from workflow.models import Application

FUNDING_STATES = frozenset({"funding_review", "award_proposed", "award_approved", "paid", "archived"})


def award_card(app: Application, definition: Definition, user: User, **_: Any) -> dict[str, Any] | None:
    """None unless the reader is finance or oversight and the version has a rule, at or after the funding review."""
    rule = awards.rule_of(definition)
    if rule is None or not ledger.may_read(user):  # finance, and those who oversee it
        return None
    rows = db.session.scalars(select(Award).where(Award.application_id == app.id).order_by(Award.id)).all()
    if app.state not in FUNDING_STATES and not rows:
        return None
    computation = awards.compute(rule, app.form or {})
    payment = db.session.scalars(select(Payment).where(Payment.application_id == app.id)).one_or_none()
    setting = next((s for s in definition.local_settings if s.key == "award_rule"), None)
    return {
        "rule_text": (setting.en if lang() == "en" else setting.zh) if setting is not None else "",
        "computed": f"{computation.amount:,.2f}",
        "explained": computation.explain(),
        "capped": computation.capped,
        "awards": [
            {
                "amount": f"{a.amount:,.2f}",
                "status": a.status,
                "reason": a.reason,
                "proposed_at": local_time(a.proposed_at),
            }
            for a in rows
        ],
        "payment": None
        if payment is None
        else {
            "amount": f"{payment.amount:,.2f}",
            "value_date": payment.value_date.isoformat(),
            "reference": payment.bank_reference,
        },
    }
