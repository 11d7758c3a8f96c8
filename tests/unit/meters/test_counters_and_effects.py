"""Known answers for the counter, consistency and effect checks (issue 12): rollover, replacement, spikes, stuck
registers, recorded outages, Σ daily against monthly, the saving rate, PUE and the park's coverage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from meters import checks, events
from tests.support.meters import HEADER, at, readings, results, unit
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db

APRIL = checks.Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30))
WITH_LIMITS = HEADER.rstrip("\n") + ",purpose,member,rated_per_hour,register_max\n"


def _event(
    org_id: int, code: str, kind: str, when: dt.datetime, until: dt.datetime | None = None, note: str = ""
) -> None:
    with db.transaction() as session:
        events.record(session, SYSTEM, session.get(Organisation, org_id), code, kind, when, until, note)


def _register(org_id: int, ids: dict[str, int], values: list[str], code: str = "G") -> None:
    """Hourly register readings from 1 April 00:00 Shanghai."""
    readings(ids[code], [(at(APRIL.start) + dt.timedelta(hours=n), v) for n, v in enumerate(values)])


def test_a_register_rolling_over_at_its_maximum_counts_across_the_wrap():
    """999,990 → 999,995 → 3 → 8 on a register of 1,000,000 counted 5 + 8 + 5 = 18; nothing is a fault."""
    org_id, ids = unit("G,1,electricity,kWh,60,true,,,,,,,1000000\n", header=WITH_LIMITS)
    _register(org_id, ids, ["999990", "999995", "3", "8"])
    found = results(org_id, APRIL)
    integrity = found["COUNTER_INTEGRITY"]
    assert (integrity.value, integrity.passed) == ("0", True)
    assert integrity.details["explained"] == [
        {"meter": "G", "kind": "rollover", "at": "2026-04-01 02:00", "before": "999995", "after": "3", "counted": "8"}
    ]
    assert found["ANNUAL_TCE"].details["by_energy_type"] == {"electricity": "0.00"}  # 18 kWh is 2.2 kgce


def test_a_fall_with_no_maximum_and_no_record_is_a_fault_counted_as_nothing():
    org_id, ids = unit("G,1,electricity,kMWh,60,true,,,\n".replace("kMWh", "MWh"))
    _register(org_id, ids, ["5000", "5010", "0", "7"])
    integrity = results(org_id, APRIL)["COUNTER_INTEGRITY"]
    assert (integrity.value, integrity.passed) == ("1", False)
    assert integrity.details["faults"][0] == {
        "meter": "G", "kind": "negative", "at": "2026-04-01 02:00", "before": "5010", "after": "0", "counted": "0"
    }  # fmt: skip


def test_a_meter_replaced_mid_period_starts_again_from_its_new_reading():
    """Old meter 5,000 → 5,010, replaced at 01:30, new meter 0 → 7: 10 + 7 counted, the unknown step as nothing."""
    org_id, ids = unit("G,1,electricity,MWh,60,true,,,\n")
    _register(org_id, ids, ["5000", "5010", "0", "7"])
    _event(org_id, "G", "replaced", at(APRIL.start, 1, 30), note="表计更换 No. 2026-17")
    found = results(org_id, APRIL)
    assert (found["COUNTER_INTEGRITY"].value, found["COUNTER_INTEGRITY"].passed) == ("0", True)
    assert found["COUNTER_INTEGRITY"].details["explained"][0]["kind"] == "replaced"
    assert found["ANNUAL_TCE"].details["by_energy_type"] == {"electricity": "2.09"}  # 17 MWh × 122.9 kgce


def test_a_recorded_rollover_without_a_maximum_wraps_at_the_power_of_ten_above():
    org_id, ids = unit("G,1,electricity,MWh,60,true,,,\n")
    _register(org_id, ids, ["99990", "5"])
    _event(org_id, "G", "rollover", at(APRIL.start, 1))
    integrity = results(org_id, APRIL)["COUNTER_INTEGRITY"]
    assert integrity.passed is True and integrity.details["explained"][0]["counted"] == "15"


def test_a_step_above_rated_power_times_1_2_is_a_spike():
    """EVIDENCE.md: no step above rated power × interval × 1.2 — 100 kW for an hour allows 120 kWh, not more."""
    for value, passed in (("120", True), ("120.000001", False)):
        org_id, ids = unit("P,3,electricity,kWh,60,false,,,,,,100,\n", header=WITH_LIMITS)
        readings(ids["P"], [(at(APRIL.start, 0), "50"), (at(APRIL.start, 1), value)])
        assert results(org_id, APRIL)["COUNTER_INTEGRITY"].passed is passed


def test_a_register_standing_still_for_24_hours_is_stuck_and_23_hours_is_not():
    for hours, passed in ((23, True), (24, False)):
        org_id, ids = unit("G,1,electricity,kWh,60,true,,,\n")
        _register(org_id, ids, ["10"] * (hours + 1) + ["11"])
        integrity = results(org_id, APRIL)["COUNTER_INTEGRITY"]
        assert integrity.passed is passed
    assert integrity.details["faults"] == [
        {"meter": "G", "kind": "stuck", "from": "2026-04-01 00:00", "to": "2026-04-02 00:00", "value": "10"}
    ]


def test_a_recorded_outage_covering_a_long_gap_is_shown_but_not_held_against_the_unit():
    org_id, ids = unit("A,2,electricity,kWh,60,false,,,\n")
    hours = [n for n in range(APRIL.days * 24) if not 101 <= n < 174]  # 73 hours missing
    readings(ids["A"], [(at(APRIL.start) + dt.timedelta(hours=n), "1") for n in hours])
    assert results(org_id, APRIL)["LONG_GAP"].passed is False
    _event(org_id, "A", "outage", at(dt.date(2026, 4, 5), 4), at(dt.date(2026, 4, 8), 6), note="配电改造停电")
    gap = results(org_id, APRIL)["LONG_GAP"]
    assert (gap.value, gap.passed) == ("0.0", True)
    assert gap.details["excused"] == [
        {"meter": "A", "from": "2026-04-05 04:00", "to": "2026-04-08 06:00", "hours": "73.0", "outage": "配电改造停电"}
    ]


def _midnights(days: list[int]) -> list[tuple[dt.datetime, str]]:
    """A register read at each Shanghai midnight from 1 April to 1 May, rising by the day's consumption."""
    total, points = Decimal(1000), [(at(APRIL.start), "1000")]
    for n, used in enumerate(days):
        total += used
        points.append((at(APRIL.start + dt.timedelta(days=n + 1)), str(total)))
    return points


def test_sum_of_days_within_5_percent_of_the_month_is_consistent_and_beyond_is_not():
    """EVIDENCE.md "|Σ daily − monthly| ÷ monthly ≤ 5 %": without the 10 April midnight, 9 and 10 April have no daily
    figure; 28 of 560 missing is 5 %, 29 of 561 is not."""
    period = checks.Period(APRIL.start, dt.date(2026, 5, 1))
    for ninth, passed in ((14, True), (15, False)):
        org_id, ids = unit("G,1,electricity,kWh,1440,true,,,\n")
        days = [19] * 30
        days[8], days[9] = ninth, 14
        readings(ids["G"], [p for p in _midnights(days) if p[0] != at(dt.date(2026, 4, 10))])
        result = results(org_id, period)["DAY_MONTH_CONSISTENCY"]
        assert (result.threshold, result.passed) == ("0.05", passed)
    assert result.value == "0.0517"
    assert result.details["months"][0]["days_without_figure"] == 2


def test_a_midnight_reading_more_than_a_minute_off_has_no_daily_figure():
    org_id, ids = unit("G,1,electricity,kWh,1440,true,,,\n")
    points = _midnights([19] * 30)
    points[9] = (points[9][0] + dt.timedelta(minutes=1), points[9][1])  # 10 April 00:01: still a midnight
    points[20] = (points[20][0] + dt.timedelta(minutes=2), points[20][1])  # 21 April 00:02: not one
    readings(ids["G"], points)
    result = results(org_id, checks.Period(APRIL.start, dt.date(2026, 5, 1)))["DAY_MONTH_CONSISTENCY"]
    assert result.details["months"][0]["days_without_figure"] == 2


def _yearly_pair(org_id: int, ids: dict[str, int], code: str, first: dt.date, days: int, per_day: str) -> None:
    readings(ids[code], [(at(first + dt.timedelta(days=n)), per_day) for n in range(days)])


YEAR = checks.Period(dt.date(2025, 3, 1), dt.date(2026, 2, 28))


def test_saving_rate_of_exactly_5_percent_passes():
    """Seed 002 "节能率达到5%（含）以上": 10,000 kWh per 100 t before, 9,500 after is ξ = 5 %; 9,501 is less."""
    rows = "G,1,electricity,kWh,1440,false,,,,,,,\nO,1,output,t,1440,false,,,,output,,,\n"
    for kwh, passed in ((9500, True), (9501, False)):
        org_id, ids = unit(rows, header=WITH_LIMITS)
        before = YEAR.before()
        readings(ids["G"], [*_daily_totalling(before, 10000), *_daily_totalling(YEAR, kwh)])
        readings(ids["O"], [*_daily_totalling(before, 100), *_daily_totalling(YEAR, 100)])
        result = results(org_id, YEAR, declared={"saving_rate_pct": "6.20"})["SAVING_RATE"]
        assert (result.threshold, result.passed) == ("0.05", passed)
    assert result.value == "0.0499" and result.details["declared_pct"] == "6.2"
    assert result.details["base_period"] == {"from": "2024-03-01", "to": "2025-02-28"}


def _daily_totalling(period: checks.Period, total: int) -> list[tuple[dt.datetime, Decimal]]:
    """A reading each day of the period, the first carrying what the equal rest leave of `total`."""
    rest = Decimal(total) / 1000
    days = [(at(period.start + dt.timedelta(days=n)), rest) for n in range(1, period.days)]
    return [(at(period.start), Decimal(total) - rest * (period.days - 1)), *days]


def test_saving_rate_needs_both_periods_covered_by_data():
    """A few days of data before the period are not a base year: the figure is not judged, and says why."""
    rows = "G,1,electricity,kWh,1440,false,,,,,,,\nO,1,output,t,1440,false,,,,output,,,\n"
    org_id, ids = unit(rows, header=WITH_LIMITS)
    before = YEAR.before()
    last_days = checks.Period(before.end - dt.timedelta(days=4), before.end)
    readings(ids["G"], [*_daily_totalling(last_days, 100), *_daily_totalling(YEAR, 9000)])
    readings(ids["O"], [*_daily_totalling(last_days, 1), *_daily_totalling(YEAR, 100)])
    result = results(org_id, YEAR)["SAVING_RATE"]
    assert result.passed is None and result.value is None
    assert result.details["why"] == "the base period has data on 5 of its 365 days for every meter compared"


def test_saving_rate_without_an_output_meter_says_what_it_needs():
    org_id, _ = unit("G,1,electricity,kWh,1440,false,,,\n")
    result = results(org_id, YEAR)["SAVING_RATE"]
    assert result.passed is None and "output meter" in result.details["why"]


def test_pue_over_twelve_months_falling_against_the_year_before():
    """PUE = total ÷ IT over ≥ 12 months: 1.3 this year against 1.4 the year before is falling."""
    rows = "G,1,electricity,kWh,1440,false,,,,,,,\nIT,2,electricity,kWh,1440,false,G,,,it_load,,,\n"
    org_id, ids = unit(rows, header=WITH_LIMITS)
    before = YEAR.before()
    _yearly_pair(org_id, ids, "G", YEAR.start, YEAR.days, "130")
    _yearly_pair(org_id, ids, "IT", YEAR.start, YEAR.days, "100")
    _yearly_pair(org_id, ids, "G", before.start, before.days, "140")
    _yearly_pair(org_id, ids, "IT", before.start, before.days, "100")
    result = results(org_id, YEAR, declared={"pue_before": "1.58", "pue_after": "1.42"})["PUE_METERED"]
    assert (result.value, result.passed, result.details["before"]) == ("1.300", True, "1.400")
    assert result.details["months_with_it_data"] == 12 and result.details["declared_pue_after"] == "1.42"


def test_pue_with_eleven_months_of_it_data_fails():
    rows = "G,1,electricity,kWh,1440,false,,,,,,,\nIT,2,electricity,kWh,1440,false,G,,,it_load,,,\n"
    org_id, ids = unit(rows, header=WITH_LIMITS)
    _yearly_pair(org_id, ids, "G", YEAR.start, YEAR.days, "130")
    _yearly_pair(org_id, ids, "IT", dt.date(2025, 4, 1), YEAR.days - 31, "100")
    result = results(org_id, YEAR)["PUE_METERED"]
    assert (result.passed, result.details["months_with_it_data"]) == (False, 11)


def test_park_coverage_of_exactly_half_the_large_enterprises_and_half_the_energy_passes():
    """Seed 002 附表2 1.1 "数量不低于50%，年综合能耗不低于园区总能耗的50%": 2 of 4, and 4,916 of 9,832 tce."""
    member_a, member_b = "91310000MA1FL00001", "91310000MA1FL00002"
    rows = f"A,1,electricity,MWh,1440,false,,,,,{member_a},,\nB,1,electricity,MWh,1440,false,,,,,{member_b},,\n"
    for total, passed in (("9832", True), ("9833", False)):
        org_id, ids = unit(rows, header=WITH_LIMITS)
        for code in ("A", "B"):  # 20,000 MWh over April × 122.9 kgce = 2,458 tce each
            readings(
                ids[code], [(at(APRIL.start + dt.timedelta(days=n)), "20000" if n == 0 else "0") for n in range(30)]
            )
        declared = {"park_large_enterprises": 4, "park_total_energy_tce": total}
        result = results(org_id, APRIL, declared=declared)["PARK_COVERAGE"]
        assert result.passed is passed
    assert (result.details["count_share"], result.details["connected_large"]) == ("0.5000", 2)
    assert result.details["energy_share"] == "0.4999"
