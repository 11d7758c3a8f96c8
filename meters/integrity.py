"""What a meter counted, step by step, and whether its counter can be trusted: COUNTER_INTEGRITY and
DAY_MONTH_CONSISTENCY (../shared/EVIDENCE.md).

A cumulative register's step is the rise from one reading to the next; an interval meter's step is its reading. A
register that falls is explained by a recorded replacement (the step counts nothing: what was used between the
old meter's last reading and the new one's first is not known) or by a rollover (at the register's maximum, or at
the power of ten above the last reading when a rollover is recorded without one); otherwise it is a negative step,
counted as nothing and reported. A step counts in the Shanghai day and month of its later reading.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meters.evidence import DETAIL_ROWS, CheckResult, Event, Evidence, Series, amount, ratio_up, shanghai
from meters.rules import EvidenceRules
from workflow.workdays import SHANGHAI

RELIABLE = frozenset({"ok", "rollover", "replaced"})  # kinds of step that do not count against the meter


@dataclass(frozen=True)
class Step:
    at: dt.datetime  # the later reading's time (UTC)
    amount: Decimal  # what the step counted; nothing when not known
    kind: str  # ok, rollover, replaced, negative, spike
    before: Decimal | None  # a register's reading before the step
    after: Decimal


def _between(events: list[Event], kind: str, since: dt.datetime, until: dt.datetime) -> Event | None:
    return next((e for e in events if e.kind == kind and since < e.at <= until), None)


def _wrap(previous: Decimal, register_max: Decimal | None) -> Decimal:
    """Where the register rolls over: its stated maximum, else the power of ten above the last reading."""
    if register_max is not None:
        return register_max
    digits = len(str(int(previous))) if previous >= 1 else 1
    return Decimal(10) ** digits


def steps(series: Series, events: list[Event], rules: EvidenceRules) -> list[Step]:
    """The meter's steps in the period, each with what it counted and what kind of step it was (worked out once
    per series: the events and rules of one evidence run do not change)."""
    if "steps" not in series.memo:
        series.memo["steps"] = _steps(series, events, rules)
    found: list[Step] = series.memo["steps"]
    return found


def _steps(series: Series, events: list[Event], rules: EvidenceRules) -> list[Step]:
    meter = series.meter
    rated = meter.rated_per_hour
    out: list[Step] = []
    if not meter.cumulative:
        span = Decimal(meter.interval_minutes) / 60
        for at, value in zip(series.times, series.values, strict=True):
            if value < 0:
                out.append(Step(at, Decimal(0), "negative", None, value))
            elif rated is not None and value > rated * span * rules.spike_factor:
                out.append(Step(at, value, "spike", None, value))
            else:
                out.append(Step(at, value, "ok", None, value))
        return out
    for i in range(1, len(series.times)):
        since, at = series.times[i - 1], series.times[i]
        before, after = series.values[i - 1], series.values[i]
        rise = after - before
        if _between(events, "replaced", since, at) is not None:
            out.append(Step(at, Decimal(0), "replaced", before, after))
            continue
        kind = "ok"
        if rise < 0:
            recorded = _between(events, "rollover", since, at) is not None
            if meter.register_max is None and not recorded:
                out.append(Step(at, Decimal(0), "negative", before, after))
                continue
            rise, kind = _wrap(before, meter.register_max) - before + after, "rollover"
        span = Decimal((at - since).total_seconds()) / 3600
        if rated is not None and rise > rated * span * rules.spike_factor:
            kind = "spike"
        out.append(Step(at, rise, kind, before, after))
    return out


def consumption(series: Series, events: list[Event], rules: EvidenceRules) -> Decimal:
    """What the meter counted in the period (see the module's note on falls and spikes)."""
    return sum((s.amount for s in steps(series, events, rules)), Decimal(0))


def monthly(series: Series, events: list[Event], rules: EvidenceRules) -> dict[str, Decimal]:
    """What the meter counted in each Shanghai month of its readings ("2026-03")."""
    months: dict[str, Decimal] = defaultdict(Decimal)
    for step in steps(series, events, rules):
        months[step.at.astimezone(SHANGHAI).strftime("%Y-%m")] += step.amount
    return dict(months)


def daily(series: Series, events: list[Event], rules: EvidenceRules) -> dict[dt.date, Decimal]:
    """What the meter counted on each Shanghai day of its readings."""
    days: dict[dt.date, Decimal] = defaultdict(Decimal)
    for step in steps(series, events, rules):
        days[step.at.astimezone(SHANGHAI).date()] += step.amount
    return dict(days)


def _stuck(series: Series, rules: EvidenceRules) -> list[dict[str, Any]]:
    """Runs of one value standing for `stuck_hours` or more over `stuck_points` readings or more (an interval meter's
    zeros are a closed plant, not a stuck meter)."""
    runs = []
    limit = dt.timedelta(hours=rules.stuck_hours)
    start = 0
    for i in range(1, len(series.values) + 1):
        if i < len(series.values) and series.values[i] == series.values[start]:
            continue
        value = series.values[start]
        long_enough = series.times[i - 1] - series.times[start] >= limit and i - start >= rules.stuck_points
        if long_enough and (series.meter.cumulative or value != 0):
            runs.append((series.times[start], series.times[i - 1], value))
        start = i
    return [
        {"meter": series.meter.point_code, "kind": "stuck", "from": shanghai(a), "to": shanghai(b), "value": amount(v)}
        for a, b, v in runs
    ]


def counter_integrity(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """No negative step (except a recorded replacement or a rollover), no stuck value, no step above the meter's
    rated quantity × the step's hours × the spike factor. The value is the number of such faults."""
    if not evidence.meters:
        return CheckResult("COUNTER_INTEGRITY", None, "0", None, evidence.period, {"why": "no meters registered"})
    faults: list[dict[str, Any]] = []
    explained: list[dict[str, Any]] = []
    count = 0
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        for step in steps(series, evidence.events.get(meter.id, []), rules):
            if step.kind == "ok":
                continue
            row = {
                "meter": meter.point_code,
                "kind": step.kind,
                "at": shanghai(step.at),
                "before": amount(step.before) if step.before is not None else None,
                "after": amount(step.after),
                "counted": amount(step.amount),
            }
            if step.kind in RELIABLE:
                if len(explained) < DETAIL_ROWS:
                    explained.append(row)
                continue
            count += 1
            if len(faults) < DETAIL_ROWS:
                faults.append(row)
        stuck = _stuck(series, rules)
        count += len(stuck)
        faults.extend(stuck[: max(0, DETAIL_ROWS - len(faults))])
    details = {"faults": faults, "explained": explained, "spike_factor": str(rules.spike_factor)}
    return CheckResult("COUNTER_INTEGRITY", str(count), "0", count == 0, evidence.period, details)


def _odometer(series: Series, events: list[Event], rules: EvidenceRules) -> list[tuple[dt.datetime, Decimal]]:
    """Each reading's time with the running total the meter had counted by then (falls explained as in `steps`)."""
    total = Decimal(0)
    marks = [(series.times[0], total)] if series.times else []
    for step in steps(series, events, rules):
        total += step.amount
        marks.append((step.at, total))
    return marks


def _nearest(marks: list[tuple[dt.datetime, Decimal]], when: dt.datetime, within: dt.timedelta) -> Decimal | None:
    """The running total at the reading nearest `when` (marks are in time order), if one is within the slack."""
    i = bisect.bisect_left(marks, when, key=lambda m: m[0])
    near = [m for m in marks[max(0, i - 1) : i + 1] if abs(m[0] - when) <= within]
    return min(near, key=lambda m: abs(m[0] - when))[1] if near else None


def day_month_consistency(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """|Σ daily − monthly| ÷ monthly per cumulative meter and whole month of the period: a day's figure runs from
    its 00:00 reading to the next day's (each within ±`midnight_minutes`), the month's from its first 00:00 to the
    next month's (within ±`month_days`). A day without both readings has no figure, so missing midnights show.
    An interval meter's days sum to its month by construction: it is not judged."""
    threshold = str(rules.day_month_share)
    rows: list[dict[str, Any]] = []
    worst: Decimal | None = None
    midnight_slack = dt.timedelta(minutes=rules.midnight_minutes)
    month_slack = dt.timedelta(days=rules.month_days)
    months = []
    first = evidence.period.start.replace(day=1)
    if first < evidence.period.start:
        first = (first + dt.timedelta(days=32)).replace(day=1)
    while True:
        # A month is judged when the period reaches its following month's first day: both midnights are needed.
        following = (first + dt.timedelta(days=32)).replace(day=1)
        if following > evidence.period.end:
            break
        months.append((first, following))
        first = following
    for meter in (m for m in evidence.meters if m.cumulative):
        series = evidence.series[meter.id]
        marks = _odometer(series, evidence.events.get(meter.id, []), rules)
        if not marks:
            continue
        at_midnight: dict[dt.date, Decimal] = {}
        for at, total in marks:
            local = at.astimezone(SHANGHAI)
            day = (local + midnight_slack).date()
            midnight = dt.datetime.combine(day, dt.time(), SHANGHAI)
            if abs(local - midnight) <= midnight_slack:
                at_midnight.setdefault(day, total)
        for start, following in months:
            begin = _nearest(marks, dt.datetime.combine(start, dt.time(), SHANGHAI), month_slack)
            end = _nearest(marks, dt.datetime.combine(following, dt.time(), SHANGHAI), month_slack)
            label = f"{start:%Y-%m}"
            if begin is None or end is None or end - begin <= 0:
                rows.append({"meter": meter.point_code, "month": label, "why": "no monthly figure"})
                continue
            total_days = Decimal(0)
            missing = 0
            day = start
            while day < following:
                after = day + dt.timedelta(days=1)
                if day in at_midnight and after in at_midnight:
                    total_days += at_midnight[after] - at_midnight[day]
                else:
                    missing += 1
                day = after
            month_total = end - begin
            exact = abs(total_days - month_total) / month_total
            share = ratio_up(abs(total_days - month_total), month_total)
            worst = share if worst is None else max(worst, share)
            rows.append(
                {
                    "meter": meter.point_code,
                    "month": label,
                    "daily_sum": amount(total_days),
                    "monthly": amount(month_total),
                    "days_without_figure": missing,
                    "share": str(share),
                    "passed": exact <= rules.day_month_share,
                }
            )
    failing = [r for r in rows if r.get("passed") is False]
    details = {"months": (failing or rows)[:DETAIL_ROWS], "judged": sum(1 for r in rows if "share" in r)}
    if worst is None:
        why = "no cumulative meter has a whole month with monthly readings in the period"
        return CheckResult("DAY_MONTH_CONSISTENCY", None, threshold, None, evidence.period, {**details, "why": why})
    return CheckResult("DAY_MONTH_CONSISTENCY", str(worst), threshold, not failing, evidence.period, details)
