"""Who reads the budget ledger, and the ledger as the page and the API show it."""

from __future__ import annotations

from typing import Any

from review import budgets
from workflow.accounts import User
from workflow.db import db


def may_read(user: User) -> bool:
    return user.role in budgets.LEDGER_READERS


def lines(programme: str | None = None) -> list[dict[str, Any]]:
    return [line.as_dict() for line in budgets.ledger(db.session, programme)]
