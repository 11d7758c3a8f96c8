"""Working days in Shanghai: deadlines counted in working days skip weekends and the configured holidays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Public holidays (and their bridging days) as the State Council announces them each year; set from the
# WORKING_DAY_HOLIDAYS setting by the app. Weekend days made working days (调休) go in WORKING_WEEKENDS.
HOLIDAYS: set[dt.date] = set()
WORKING_WEEKENDS: set[dt.date] = set()


def configure(holidays: Iterable[dt.date] = (), working_weekends: Iterable[dt.date] = ()) -> None:
    HOLIDAYS.clear()
    HOLIDAYS.update(holidays)
    WORKING_WEEKENDS.clear()
    WORKING_WEEKENDS.update(working_weekends)


def is_working_day(day: dt.date) -> bool:
    if day in WORKING_WEEKENDS:
        return True
    return day.weekday() < 5 and day not in HOLIDAYS


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def today_in_shanghai(now: dt.datetime) -> dt.date:
    return now.astimezone(SHANGHAI).date()


def parse_dates(raw: str) -> list[dt.date]:
    """'2026-10-01,2026-10-02' → dates; a bad entry raises ValueError naming it."""
    out = []
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(dt.date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"'{part}' is not a date like 2026-10-01") from None
    return out
