"""Who may see the overview, and its figures as the page, the pictures and the API show them."""

from __future__ import annotations

from typing import Any

from review import budgets
from review.overview import Overview, overview
from workflow.accounts import User
from workflow.db import db
from workflow.visibility import current_definitions, programme_definitions

# The commission and the desks see the overview of what they may see; applicants and experts have their own pages.
READERS = frozenset(
    {
        "district_reviewer",
        "municipal_reviewer",
        "agency_coordinator",
        "finance_officer",
        "monitoring_reviewer",
        "market_regulator",
        "admin",
        "auditor",
    }
)


def may_read(user: User) -> bool:
    return user.role in READERS


def figures(user: User) -> Overview:
    return overview(db.session, user, with_budgets=user.role in budgets.LEDGER_READERS)


def state_labels(lang: str) -> dict[tuple[str, str], str]:
    """(programme, state) -> the state's name in `lang`, from the current definitions."""
    labels: dict[tuple[str, str], str] = {}
    for definition in programme_definitions(db.session).values():
        for state in definition.states:
            labels.setdefault((definition.code, state), definition.state_label(state, lang))
    return labels


def programme_titles(lang: str) -> dict[str, str]:
    return {
        code: d.title.get(lang) or code for code, d in current_definitions(programme_definitions(db.session)).items()
    }


def as_json(found: Overview) -> dict[str, Any]:
    return found.as_dict()
