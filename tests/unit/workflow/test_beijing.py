"""One format for times and dates, in Beijing time (issue 15 item 5): `2026-12-06 14:05` and `2026-12-06`, the day
turning at Beijing's midnight (16:00 UTC), not at UTC's."""

from __future__ import annotations

import datetime as dt

from workflow.beijing import beijing_date, beijing_time


def test_a_moment_past_utc_four_pm_is_the_next_day_in_beijing():
    moment = dt.datetime(2026, 12, 5, 16, 30, tzinfo=dt.UTC)
    assert beijing_time(moment) == "2026-12-06 00:30"
    assert beijing_date(moment) == "2026-12-06"
    just_before = dt.datetime(2026, 12, 5, 15, 59, tzinfo=dt.UTC)
    assert (beijing_time(just_before), beijing_date(just_before)) == ("2026-12-05 23:59", "2026-12-05")


def test_naive_times_are_utc_and_iso_text_is_read_too():
    assert beijing_time(dt.datetime(2026, 12, 5, 16, 30)) == "2026-12-06 00:30"  # as SQLite hands it back
    assert beijing_time("2026-12-05T16:30:00+00:00") == "2026-12-06 00:30"
    assert beijing_time(dt.datetime(2026, 12, 6, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))) == (
        "2026-12-06 00:30"
    )
    assert beijing_date("2026-12-05T16:30:00Z") == "2026-12-06"


def test_a_calendar_date_stays_its_day_and_nothing_is_empty():
    assert beijing_date(dt.date(2026, 12, 6)) == "2026-12-06" == beijing_date("2026-12-06")
    assert beijing_time(None) == "" == beijing_date(None) == beijing_time("")
