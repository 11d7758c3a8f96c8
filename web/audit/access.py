"""Who may read the audit (the auditor alone: anyone else is answered as if the page did not exist), and the
filters a list of events takes, read the same way by the pages and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from workflow.accounts import User
from workflow.audit_trail import AUDITOR, EventFilter
from workflow.errors import Problem

MAX_ID = 2_147_483_647


def may_read(user: User) -> bool:
    return user.role == AUDITOR


def _date(args: Mapping[str, str], name: str, problems: list[Problem]) -> dt.date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(name, "invalid", f"{name} is a day as YYYY-MM-DD, not '{raw[:40]}'"))
        return None


def event_filter(args: Mapping[str, str]) -> tuple[EventFilter, list[Problem]]:
    """The filter a query string asks for, and what in it could not be read (left out of the filter)."""
    problems: list[Problem] = []
    application_id = None
    raw_id = (args.get("application_id") or "").strip().lstrip("#")
    if raw_id:
        if raw_id.isdigit() and 0 < int(raw_id) <= MAX_ID:
            application_id = int(raw_id)
        else:
            problems.append(Problem("application_id", "invalid", f"application_id is a number, not '{raw_id[:40]}'"))
    since, until = _date(args, "from", problems), _date(args, "to", problems)
    if since and until and since > until:
        problems.append(Problem("to", "before_from", "to is a day on or after from"))
        until = None
    actor = (args.get("actor") or "").strip()[:64] or None
    kind = (args.get("kind") or "").strip()[:16] or None
    return EventFilter(application_id, actor, kind, since, until), problems
