"""Whether a meter's counter can be trusted: COUNTER_INTEGRITY and DAY_MONTH_CONSISTENCY (../shared/EVIDENCE.md),
and what it counted.

A cumulative register's step is the rise from one reading to the next; an interval meter's step is its reading. A
register that falls is explained by a recorded replacement (the step counts nothing: what was used between the
old meter's last reading and the new one's first is not known) or by a rollover (at the register's maximum, or at
the power of ten above the last reading when a rollover is recorded without one); otherwise it is a negative step,
counted as nothing and reported. A step counts in the Shanghai day and month of its later reading. The steps are
taken once, as the readings stream past (`meters.series`); the checks read what was kept.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from meters.evidence import CheckResult, Evidence, amount, ratio_up, shanghai
from meters.rules import EvidenceRules
from meters.series import DETAIL_ROWS, Series, Step, months_judged
from workflow.workdays import SHANGHAI


def consumption(series: Series) -> Decimal:
    """What the meter counted in the period (see the module's note on falls and spikes)."""
    return series.total


def monthly(series: Series) -> dict[str, Decimal]:
    """What the meter counted in each Shanghai month of its readings ("2026-03")."""
    return series.monthly


def daily(series: Series) -> dict[dt.date, Decimal]:
    """What the meter counted on each Shanghai day of its readings."""
    return series.daily


def _row(code: str, step: Step) -> dict[str, Any]:
    return {
        "meter": code,
        "kind": step.kind,
        "at": shanghai(step.at),
        "before": amount(step.before) if step.before is not None else None,
        "after": amount(step.after),
        "counted": amount(step.amount),
    }


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
        explained.extend(_row(meter.point_code, s) for s in series.explained[: max(0, DETAIL_ROWS - len(explained))])
        faults.extend(_row(meter.point_code, s) for s in series.fault_rows[: max(0, DETAIL_ROWS - len(faults))])
        stuck = [
            {"meter": meter.point_code, "kind": "stuck", "from": shanghai(a), "to": shanghai(b), "value": amount(v)}
            for a, b, v in series.stuck
        ]
        faults.extend(stuck[: max(0, DETAIL_ROWS - len(faults))])
        count += series.faults
    details = {"faults": faults, "explained": explained, "spike_factor": str(rules.spike_factor)}
    return CheckResult("COUNTER_INTEGRITY", str(count), "0", count == 0, evidence.period, details)


def day_month_consistency(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """|Σ daily − monthly| ÷ monthly per cumulative meter and whole month of the period: a day's figure runs from
    its 00:00 reading to the next day's (each within ±`midnight_minutes`), the month's from its first 00:00 to the
    next month's (within ±`month_days`). A day without both readings has no figure, so missing midnights show.
    An interval meter's days sum to its month by construction: it is not judged."""
    threshold = str(rules.day_month_share)
    rows: list[dict[str, Any]] = []
    worst: Decimal | None = None
    # A month is judged when the period reaches its following month's first day: both midnights are needed.
    months = months_judged(evidence.period.start, evidence.period.end)
    for meter in (m for m in evidence.meters if m.cumulative):
        series = evidence.series[meter.id]
        if not series.points:
            continue
        at_midnight = series.midnights  # the running total at each midnight reading, within the slack
        for start, following in months:
            begin = series.at_boundary.get(dt.datetime.combine(start, dt.time(), SHANGHAI))
            end = series.at_boundary.get(dt.datetime.combine(following, dt.time(), SHANGHAI))
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
