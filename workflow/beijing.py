"""Times and dates as people read them (issue 15 item 5): Beijing time, one format everywhere — `2026-12-06 14:05`
for a moment, `2026-12-06` for a day. Pages, documents, sheets and messages use these; the API keeps ISO 8601 with
its offset. A stored time is UTC (naive from SQLite, workflow.db.as_utc)."""

from __future__ import annotations

import datetime as dt

from workflow.db import as_utc
from workflow.workdays import SHANGHAI

TIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"


def _moment(value: dt.datetime | str) -> dt.datetime:
    return as_utc(dt.datetime.fromisoformat(value) if isinstance(value, str) else value)


def beijing_time(value: dt.datetime | str | None) -> str:
    """A moment (a stored UTC time, an aware time, or its ISO text) as Beijing reads it; "" for none."""
    if value is None or value == "":
        return ""
    return _moment(value).astimezone(SHANGHAI).strftime(TIME_FORMAT)


def beijing_date(value: dt.date | dt.datetime | str | None) -> str:
    """A day: a moment's day in Beijing, or a calendar date as it is; "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return _moment(value).astimezone(SHANGHAI).strftime(DATE_FORMAT)
    return value.strftime(DATE_FORMAT)
