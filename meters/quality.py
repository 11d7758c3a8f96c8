"""Data quality: completeness per meter and day, long gaps, days online, six months of stable running."""

from __future__ import annotations

import datetime as dt
from typing import Any

from meters.evidence import CheckResult, Evidence, Period, hours, ratio, shanghai
from meters.rules import EvidenceRules
from meters.series import DETAIL_ROWS, Event, Series
from workflow.workdays import SHANGHAI


def completeness(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Valid points ÷ expected points, per meter and Shanghai day; every meter-day must reach its tier's share."""
    got_total = expected_total = 0
    short: list[dict[str, Any]] = []
    short_count = 0
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        per_day = series.per_day
        wanted = rules.completeness_tier1 if meter.tier == 1 else rules.completeness
        for n in range(evidence.period.days):
            day = evidence.period.start + dt.timedelta(days=n)
            expected = 1440 // meter.interval_minutes
            got = per_day.get(day, 0)
            got_total += got
            expected_total += expected
            share = ratio(got, expected)
            if share < wanted:
                short_count += 1
                if len(short) < DETAIL_ROWS:
                    short.append({"meter": meter.point_code, "day": day.isoformat(), "share": str(share)})
    if not expected_total:
        return CheckResult("COMPLETENESS", None, None, None, evidence.period, {"why": "no meters registered"})
    value = ratio(got_total, expected_total)
    details = {"short_days": short, "short_day_count": short_count, "tier1_threshold": str(rules.completeness_tier1)}
    return CheckResult("COMPLETENESS", str(value), str(rules.completeness), short_count == 0, evidence.period, details)


def gaps_of(series: Series, since: dt.datetime | None = None) -> list[tuple[dt.datetime, dt.datetime]]:
    """Each run of missing points in the period as (last point before, first point after): the first point is due
    one interval after the period starts, and the period's end closes the last gap. From `since` on, when given (a
    later start cuts the gap it falls in)."""
    if since is None:
        return series.gaps
    step = dt.timedelta(minutes=series.meter.interval_minutes)
    cut = [(max(before, since), after) for before, after in series.gaps if after > since]
    return [(before, after) for before, after in cut if after - before > step]


def _excused(before: dt.datetime, after: dt.datetime, events: list[Event]) -> Event | None:
    """The recorded outage that covers the whole gap, if any."""
    for event in events:
        if event.kind == "outage" and event.at <= before and event.ends_at is not None and event.ends_at >= after:
            return event
    return None


def long_gap(evidence: Evidence, rules: EvidenceRules, since: dt.datetime | None = None) -> CheckResult:
    """The longest run without a reading, per meter, within the period (from `since`, when given): over
    `long_hours` is a long gap, unless an outage recorded for the meter covers it (shown, with its note, and not
    counted against the unit)."""
    longest = dt.timedelta(0)
    limit = dt.timedelta(hours=rules.long_gap_hours)
    gaps: list[dict[str, Any]] = []
    excused: list[dict[str, Any]] = []
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        step = dt.timedelta(minutes=meter.interval_minutes)
        for before, after in gaps_of(series, since):
            missing = after - before - step
            row = {
                "meter": meter.point_code,
                "from": shanghai(before),
                "to": shanghai(after),
                "hours": str(hours(missing)),
            }
            outage = _excused(before, after, evidence.events.get(meter.id, [])) if missing > limit else None
            if outage is not None:
                if len(excused) < DETAIL_ROWS:
                    excused.append({**row, "outage": outage.note})
                continue
            longest = max(longest, missing)
            if missing > limit and len(gaps) < DETAIL_ROWS:
                gaps.append(row)
    value = hours(longest)
    passed = None if not evidence.meters else value <= rules.long_gap_hours
    details = {"gaps": gaps, "excused": excused}
    return CheckResult("LONG_GAP", str(value), str(rules.long_gap_hours), passed, evidence.period, details)


def online_days(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Days with at least one reading ÷ days in the period, per meter; every meter must reach the share.

    Timeliness (uploaded the same day) needs the time each point was received, which is not recorded yet."""
    if not evidence.meters:
        return CheckResult("ONLINE_DAYS", None, None, None, evidence.period, {"why": "no meters registered"})
    shares = {}
    for meter in evidence.meters:
        days = set(evidence.series[meter.id].per_day)
        shares[meter.point_code] = ratio(len(days), evidence.period.days)
    low = {code: str(share) for code, share in shares.items() if share < rules.online_share}
    value = min(shares.values())
    details = {"below": low, "timeliness": "not judged: receipt times are not recorded yet"}
    return CheckResult("ONLINE_DAYS", str(value), str(rules.online_share), not low, evidence.period, details)


def _months_back(end: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The calendar months (Shanghai dates) that end with `end`'s month, oldest first, the last one cut at `end`."""
    months = []
    first = end.replace(day=1)
    last = end
    for _ in range(count):
        months.append((first, last))
        last = first - dt.timedelta(days=1)
        first = last.replace(day=1)
    return months[::-1]


def stable_run(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Seed 002: six months of stable running — from each meter's first valid point to the period's end at least
    `days` days, each of the last `months` months complete to the share, and no long gap in that time."""
    period = evidence.period
    if not evidence.meters:
        return CheckResult("STABLE_RUN_6M", None, str(rules.stable_days), None, period, {"why": "no meters registered"})
    if period.days < rules.stable_days:
        why = f"the period has {period.days} days; judging {rules.stable_days} days of running needs at least as many"
        return CheckResult("STABLE_RUN_6M", None, str(rules.stable_days), None, period, {"why": why})
    problems: list[dict[str, Any]] = []
    shortest: int | None = None
    months = _months_back(period.end, rules.stable_months)
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        if series.first is None:
            problems.append({"meter": meter.point_code, "why": "no readings in the period"})
            shortest = 0
            continue
        first_day = series.first.astimezone(SHANGHAI).date()
        ran = (period.end - first_day).days + 1
        shortest = ran if shortest is None else min(shortest, ran)
        if ran < rules.stable_days:
            problems.append({"meter": meter.point_code, "why": f"first valid point {first_day}: {ran} days"})
        per_day = series.per_day
        for first, last in months:
            first = max(first, period.start)
            if first > last:
                continue
            expected = ((last - first).days + 1) * (1440 // meter.interval_minutes)
            got = sum(n for day, n in per_day.items() if first <= day <= last)
            share = ratio(got, expected)
            if share < rules.stable_month_share:
                problems.append({"meter": meter.point_code, "why": f"{first:%Y-%m}: {share} complete"})
    # No long gap in the stable window (a gap before the first valid point is the time before the run, not in it).
    window = Period(period.end - dt.timedelta(days=rules.stable_days - 1), period.end)
    gap = long_gap(evidence, rules, since=window.since)
    if gap.passed is False:
        problems.extend({"meter": g["meter"], "why": f"gap {g['from']} to {g['to']}"} for g in gap.details["gaps"])
    details = {"problems": problems[:DETAIL_ROWS], "months": [f"{first:%Y-%m}" for first, _ in months]}
    value = str(shortest) if shortest is not None else None
    return CheckResult("STABLE_RUN_6M", value, str(rules.stable_days), not problems, period, details)
