"""The evidence checks on data with known answers (issue 12), each at its boundary in the sources' own numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert

from meters import checks
from meters.models import Reading
from tests.support.meters import daily, hourly, results, unit
from workflow.db import db
from workflow.workdays import SHANGHAI

MARCH = checks.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 30))  # 30 Shanghai days


def test_tier_three_access_of_exactly_80_percent_passes_and_one_meter_less_fails():
    """Seed 002 附表1 2.1: "三级表具接入比例80％以上" — 8 of 10 required tier-3 points live is 80 %."""
    meters = "".join(f"M-{n},3,electricity,kWh,60,false,,,2027-01-01\n" for n in range(10))
    org_id, ids = unit(meters, {(3, "electricity"): 10})
    for n in range(8):
        hourly(ids[f"M-{n}"], MARCH)
    result = results(org_id, MARCH)["ACCESS_RATIO_T3"]
    assert (result.value, result.threshold, result.passed) == ("0.8000", "0.80", True)
    assert sorted(m["meter"] for m in result.details["not_live"]) == ["M-8", "M-9"]

    org_id, ids = unit(meters, {(3, "electricity"): 10})
    for n in range(7):
        hourly(ids[f"M-{n}"], MARCH)
    # The eighth delivers 89 % of its points over the last 30 days: not live (live means ≥ 90 %).
    hourly(ids["M-7"], MARCH, skip=set(range(0, 30 * 24, 9)))
    result = results(org_id, MARCH)["ACCESS_RATIO_T3"]
    assert (result.value, result.passed) == ("0.7000", False)


def test_tier_one_access_must_be_100_percent():
    """Seed 002: "企业一级（关口）表具接入比例100％"."""
    org_id, ids = unit(
        "G-1,1,electricity,kWh,60,true,,,2027-01-01\nG-2,1,electricity,kWh,60,true,,,2027-01-01\n",
        {(1, "electricity"): 2},
    )
    hourly(ids["G-1"], MARCH, value=lambda n: Decimal(n))
    result = results(org_id, MARCH)["ACCESS_RATIO_T1"]
    assert (result.value, result.threshold, result.passed) == ("0.5000", "1.00", False)


def test_a_73_hour_gap_is_long_and_a_72_hour_one_is_not():
    """EVIDENCE.md: repaired within 3 working days → a gap over 72 h is long."""
    org_id, ids = unit("A,2,electricity,kWh,60,false,,,\nB,2,electricity,kWh,60,false,,,\n")
    # A loses the 72 hourly points after hour 100: the readings at 100 and 173 are 73 hours apart, 72 of them missing.
    hourly(ids["A"], MARCH, skip=set(range(101, 173)))
    hourly(ids["B"], MARCH)
    result = results(org_id, MARCH)["LONG_GAP"]
    assert (result.value, result.threshold, result.passed) == ("72.0", "72", True)

    org_id, ids = unit("A,2,electricity,kWh,60,false,,,\n")
    hourly(ids["A"], MARCH, skip=set(range(101, 174)))  # 73 points missing: a 73-hour gap
    result = results(org_id, MARCH)["LONG_GAP"]
    assert (result.value, result.passed) == ("73.0", False)
    assert result.details["gaps"] == [
        {"meter": "A", "from": "2026-03-05 04:00", "to": "2026-03-08 06:00", "hours": "73.0"}
    ]


def test_completeness_counts_by_shanghai_day_not_by_utc_day():
    """Shanghai's 00:00–07:59 is the previous UTC day: a full Shanghai day is complete, not split across two."""
    org_id, ids = unit("T,1,electricity,kWh,60,false,,,\n")
    day = checks.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    hourly(ids["T"], day)
    result = results(org_id, day)["COMPLETENESS"]
    assert (result.value, result.passed, result.details["short_day_count"]) == ("1.0000", True, 0)

    org_id, ids = unit("T,1,electricity,kWh,60,false,,,\n")
    hourly(ids["T"], day, skip={0})  # 23 of 24 is 95.83 %: enough for tier 2, short of tier 1's 98 %
    result = results(org_id, day)["COMPLETENESS"]
    assert (result.value, result.passed) == ("0.9583", False)
    assert result.details["short_days"] == [{"meter": "T", "day": "2026-03-01", "share": "0.9583"}]


def test_exactly_2000_tce_passes_and_a_kilowatt_hour_less_fails():
    """Seed 002's 2000 tonnes of standard coal, by GB/T 2589: 16,160,400 kWh × 0.1229 + 407 GJ × 34.12 kgce."""
    year = checks.Period(dt.date(2025, 3, 1), dt.date(2026, 2, 28))
    meters = "E,1,electricity,kWh,1440,true,,,2027-01-01\nH,1,heat,GJ,1440,false,,,2027-01-01\n"
    for kwh, passed in ((Decimal("16160400"), True), (Decimal("16160399"), False)):
        org_id, ids = unit(meters)
        start = dt.datetime.combine(year.start, dt.time(), SHANGHAI).astimezone(dt.UTC)
        last = dt.datetime.combine(year.end, dt.time(), SHANGHAI).astimezone(dt.UTC)
        with db.transaction() as session:
            session.execute(
                insert(Reading),
                [
                    {"meter_id": ids["E"], "at": start, "value": Decimal("500000")},
                    {"meter_id": ids["E"], "at": last, "value": Decimal("500000") + kwh},
                    {"meter_id": ids["H"], "at": start, "value": Decimal("400")},
                    {"meter_id": ids["H"], "at": last, "value": Decimal("7")},
                ],
            )
        result = results(org_id, year)["ANNUAL_TCE"]
        assert (result.threshold, result.passed) == ("2000", passed)
    assert result.value == "1999.99"


def test_calibration_every_tier_one_meter_must_be_valid_at_the_periods_end():
    org_id, _ = unit("G,1,electricity,kWh,60,true,,,2026-03-30\nS,2,electricity,kWh,60,true,,,2026-03-29\n")
    result = results(org_id, MARCH)["CALIBRATION_VALID"]
    assert (result.value, result.passed) == ("0.5000", True)  # the tier-2 meter lapsed the day before the end
    org_id, _ = unit("G,1,electricity,kWh,60,true,,,2026-03-29\n")
    assert results(org_id, MARCH)["CALIBRATION_VALID"].passed is False


def test_nothing_to_judge_is_said_so_not_passed():
    org_id, _ = unit("G,1,electricity,kWh,60,true,,,\n")
    result = results(org_id, MARCH)
    assert result["ACCESS_RATIO_T2"].passed is None and result["ACCESS_RATIO_T2"].details["why"] == "no points required"
    assert result["EQUIPMENT_RATIO"].passed is None


def test_six_months_of_stable_running_is_183_days_from_the_first_valid_point():
    """Seed 002's six months of stable running: 183 days to the period's end passes, 182 does not."""
    period = checks.Period(dt.date(2025, 9, 1), dt.date(2026, 3, 31))
    for first, passed in ((dt.date(2025, 9, 30), True), (dt.date(2025, 10, 1), False)):
        org_id, ids = unit("D,1,electricity,kWh,1440,false,,,\n")
        daily(ids["D"], first, period.end)
        result = results(org_id, period)["STABLE_RUN_6M"]
        assert (result.threshold, result.passed) == ("183", passed)
    assert result.value == "182" and "first valid point 2025-10-01" in result.details["problems"][0]["why"]


def test_a_month_below_90_percent_or_a_long_gap_breaks_the_stable_run():
    period = checks.Period(dt.date(2025, 9, 1), dt.date(2026, 3, 31))
    org_id, ids = unit("D,1,electricity,kWh,1440,false,,,\n")
    # Four days missing from January (27 of 31, 87 %): a month short, and a gap of 4 days.
    daily(ids["D"], period.start, period.end, skip={dt.date(2026, 1, d) for d in range(10, 14)})
    result = results(org_id, period)
    assert result["STABLE_RUN_6M"].passed is False
    reasons = [p["why"] for p in result["STABLE_RUN_6M"].details["problems"]]
    assert "2026-01: 0.8709 complete" in reasons and any(r.startswith("gap ") for r in reasons)
    assert result["ONLINE_DAYS"].value == "0.9811" and result["ONLINE_DAYS"].passed is True  # 208 of 212 days


def test_a_period_too_short_to_judge_six_months_says_so():
    org_id, ids = unit("D,1,electricity,kWh,1440,false,,,\n")
    daily(ids["D"], MARCH.start, MARCH.end)
    result = results(org_id, MARCH)["STABLE_RUN_6M"]
    assert result.passed is None and "needs at least" in result.details["why"]


def test_tier_two_within_5_percent_of_tier_one_balances_and_beyond_does_not():
    """EVIDENCE.md: |Σ tier-2 − tier-1| ÷ tier-1 per month ≤ 5 % (electricity): 950 under 1000 is 5 %."""
    meters = (
        "G,1,electricity,kWh,1440,false,,,\nA,2,electricity,kWh,1440,false,G,,\nB,2,electricity,kWh,1440,false,G,,\n"
    )
    for below, passed in ((Decimal("950"), True), (Decimal("949"), False)):
        org_id, ids = unit(meters)
        march_1 = dt.datetime.combine(MARCH.start, dt.time(), SHANGHAI)
        with db.transaction() as session:
            session.execute(
                insert(Reading),
                [
                    {"meter_id": ids["G"], "at": march_1, "value": Decimal("1000")},
                    {"meter_id": ids["A"], "at": march_1, "value": Decimal("500")},
                    {"meter_id": ids["B"], "at": march_1, "value": below - 500},
                ],
            )
        result = results(org_id, MARCH)["TIER_BALANCE"]
        assert (result.threshold, result.passed) == ("0.05", passed)
        assert result.details["months"][0]["month"] == "2026-03"
    assert result.value == "0.0510"


def test_a_registers_month_runs_from_its_last_reading_before_the_month():
    """A cumulative tier-1 register read 100 on 28 February and 1,100 on 31 March counted 1,000 in March."""
    period = checks.Period(dt.date(2026, 2, 28), dt.date(2026, 3, 31))
    org_id, ids = unit("G,1,electricity,kWh,1440,true,,,\nA,2,electricity,kWh,1440,false,G,,\n")
    at = {day: dt.datetime.combine(day, dt.time(), SHANGHAI) for day in (period.start, MARCH.start, period.end)}
    with db.transaction() as session:
        session.execute(
            insert(Reading),
            [
                {"meter_id": ids["G"], "at": at[period.start], "value": Decimal("100")},
                {"meter_id": ids["G"], "at": at[MARCH.start], "value": Decimal("150")},
                {"meter_id": ids["G"], "at": at[period.end], "value": Decimal("1100")},
                {"meter_id": ids["A"], "at": at[MARCH.start], "value": Decimal("975")},
            ],
        )
    result = results(org_id, period)["TIER_BALANCE"]
    march = next(m for m in result.details["months"] if m["month"] == "2026-03")
    assert (march["tier1"], march["tier2"], march["share"], march["passed"]) == ("1000", "975", "0.0250", True)
