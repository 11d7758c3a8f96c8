"""Working days in Shanghai: weekends and configured holidays are skipped, 调休 weekend days count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from workflow import workdays

D = dt.date
# The week of National Day 2027 as the State Council might announce it: 1–7 October off, Saturday 9 October worked.
GOLDEN_WEEK = [D(2027, 10, day) for day in range(1, 8)]
MAKE_UP_SATURDAY = D(2027, 10, 9)


@pytest.fixture(autouse=True)
def _restore_calendar() -> Iterator[None]:
    """Each test configures its own holidays; the app's configuration comes back afterwards."""
    saved = (set(workdays.HOLIDAYS), set(workdays.WORKING_WEEKENDS))
    workdays.configure()
    yield
    workdays.configure(*saved)


def test_weekdays_work_and_weekends_do_not():
    week = [D(2027, 9, 20) + dt.timedelta(days=n) for n in range(7)]  # Monday to Sunday
    assert [workdays.is_working_day(day) for day in week] == [True, True, True, True, True, False, False]


def test_counting_skips_the_weekend_and_starts_after_the_start_day():
    friday = D(2027, 9, 24)
    assert workdays.add_working_days(friday, 1) == D(2027, 9, 27)  # Monday
    assert workdays.add_working_days(friday, 10) == D(2027, 10, 8)
    assert workdays.add_working_days(friday, 0) == friday


def test_a_saturday_start_counts_from_monday():
    assert workdays.add_working_days(D(2027, 9, 25), 1) == D(2027, 9, 27)


def test_configured_holidays_are_skipped():
    workdays.configure(holidays=GOLDEN_WEEK)
    assert not workdays.is_working_day(D(2027, 10, 4))  # a Monday off
    # From Monday 27 September: 28, 29, 30 September, then 8, 11, 12, 13, 14, 15, 18 October.
    assert workdays.add_working_days(D(2027, 9, 27), 10) == D(2027, 10, 18)


def test_a_weekend_day_made_a_working_day_counts():
    workdays.configure(holidays=GOLDEN_WEEK, working_weekends=[MAKE_UP_SATURDAY])
    assert workdays.is_working_day(MAKE_UP_SATURDAY)
    assert not workdays.is_working_day(D(2027, 10, 10))  # the Sunday after stays off
    # The Saturday worked brings the tenth working day forward to Friday 15 October.
    assert workdays.add_working_days(D(2027, 9, 27), 10) == D(2027, 10, 15)


def test_configure_replaces_the_earlier_lists():
    workdays.configure(holidays=GOLDEN_WEEK, working_weekends=[MAKE_UP_SATURDAY])
    workdays.configure(holidays=[D(2027, 12, 31)])
    assert workdays.is_working_day(D(2027, 10, 4))
    assert not workdays.is_working_day(MAKE_UP_SATURDAY)
    assert not workdays.is_working_day(D(2027, 12, 31))


def test_negative_days_are_refused():
    with pytest.raises(ValueError, match="negative"):
        workdays.add_working_days(D(2027, 9, 27), -1)


def test_today_is_read_on_shanghais_clock():
    assert workdays.today_in_shanghai(dt.datetime(2027, 9, 30, 15, 59, 59, tzinfo=dt.UTC)) == D(2027, 9, 30)
    assert workdays.today_in_shanghai(dt.datetime(2027, 9, 30, 16, 0, tzinfo=dt.UTC)) == D(2027, 10, 1)


def test_dates_from_the_setting():
    assert workdays.parse_dates(" 2027-10-01, 2027-10-02;2027-10-09 ,") == [
        D(2027, 10, 1),
        D(2027, 10, 2),
        D(2027, 10, 9),
    ]
    assert workdays.parse_dates("") == []
    with pytest.raises(ValueError, match="'2027-10-32' is not a date"):
        workdays.parse_dates("2027-10-01,2027-10-32")
