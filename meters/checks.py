"""The meter-evidence checks (../shared/EVIDENCE.md), each a named function of a unit's registry and readings.

Each result gives its value, threshold, whether it passed (None: nothing to judge, e.g. no required points set),
the period, and the details that explain it: which meters, which days, which gaps. A gap is shown as a gap; nothing
is filled. Periods are Shanghai dates, both included; readings are read in UTC between their Shanghai midnights.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.models import Meter, MeterRequirement, Reading
from meters.rules import EvidenceRules
from workflow.db import as_utc
from workflow.workdays import SHANGHAI

RATIO = Decimal("0.0001")  # ratios shown to 4 places, rounded down: 0.79996 is not 80 %
DETAIL_ROWS = 50  # the details list this many failing items, and counts the rest


@dataclass(frozen=True)
class Period:
    """Shanghai dates, both included."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), SHANGHAI).astimezone(dt.UTC)

    @property
    def until(self) -> dt.datetime:
        """The instant after the period: the Shanghai midnight that ends its last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class CheckResult:
    check: str
    value: str | None
    threshold: str | None
    passed: bool | None
    period: Period
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "period": self.period.as_dict(),
            "details": self.details,
        }


@dataclass
class Series:
    """One meter's readings in the period, in time order (UTC)."""

    meter: Meter
    times: list[dt.datetime]
    values: list[Decimal]

    def expected_points(self, since: dt.datetime, until: dt.datetime) -> int:
        return int((until - since).total_seconds() // (self.meter.interval_minutes * 60))


@dataclass
class Evidence:
    """What the checks read: the unit's meters, required points, and each meter's readings in the period."""

    period: Period
    meters: list[Meter]
    required: dict[tuple[int, str], int]  # (tier, energy type) → points required
    series: dict[int, Series]  # meter id → readings


def load(session: Session, organisation_id: int, period: Period) -> Evidence:
    """The unit's registry and its readings in the period (one meter at a time, in time order)."""
    meters = list(
        session.scalars(select(Meter).where(Meter.organisation_id == organisation_id).order_by(Meter.point_code))
    )
    required = {
        (r.tier, r.energy_type): r.required
        for r in session.scalars(select(MeterRequirement).where(MeterRequirement.organisation_id == organisation_id))
    }
    series = {}
    for meter in meters:
        rows = session.execute(
            select(Reading.at, Reading.value)
            .where(Reading.meter_id == meter.id, Reading.at >= period.since, Reading.at < period.until)
            .order_by(Reading.at)
        ).all()
        series[meter.id] = Series(meter, [as_utc(at) for at, _ in rows], [Decimal(v) for _, v in rows])
    return Evidence(period, meters, required, series)


def _ratio(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_DOWN)


def _amount(value: Decimal) -> str:
    """A quantity without trailing zeros or exponent: 1000.000000 → "1000"."""
    return format(value.normalize(), "f")


def _shanghai(when: dt.datetime) -> str:
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


# --- access and equipment ------------------------------------------------------------------------------------------


def _live(series: Series, evidence: Evidence, rules: EvidenceRules) -> tuple[bool, Decimal]:
    """Whether the meter is connected: enough points over the last days of the period, and a recent one."""
    until = evidence.period.until
    since = max(evidence.period.since, until - dt.timedelta(days=rules.live_days))
    expected = series.expected_points(since, until)
    got = sum(1 for t in series.times if t >= since)
    share = _ratio(got, expected) if expected else Decimal(0)
    fresh = bool(series.times) and series.times[-1] >= until - dt.timedelta(hours=rules.fresh_hours)
    return share >= rules.live_share and fresh, share


def access_ratio(tier: int) -> Callable[[Evidence, EvidenceRules], CheckResult]:
    def check(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
        """Seed 002 附表1 2.1: live meters of the tier ÷ the points it must have."""
        name = f"ACCESS_RATIO_T{tier}"
        required = sum(n for (t, _), n in evidence.required.items() if t == tier)
        threshold = str(rules.access[tier])
        live, not_live = [], []
        for meter in (m for m in evidence.meters if m.tier == tier):
            ok, share = _live(evidence.series[meter.id], evidence, rules)
            if ok:
                live.append(meter.point_code)
            else:
                last = evidence.series[meter.id].times[-1:] or [None]
                not_live.append(
                    {"meter": meter.point_code, "share": str(share), "last": _shanghai(last[0]) if last[0] else None}
                )
        details = {"required": required, "live": live, "not_live": not_live}
        if not required:
            return CheckResult(name, None, threshold, None, evidence.period, {**details, "why": "no points required"})
        value = _ratio(len(live), required)
        return CheckResult(name, str(value), threshold, value >= rules.access[tier], evidence.period, details)

    return check


def equipment_ratio(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """GB 17167-2006: meters installed ÷ meters required, per tier and energy type, against the standard's table."""
    installed = Counter((m.tier, m.energy_type) for m in evidence.meters)
    cells, lowest = [], None
    for (tier, energy), required in sorted(evidence.required.items()):
        if not required:
            continue
        ratio = _ratio(min(installed[(tier, energy)], required), required)
        wanted = rules.equipment.get(energy, (Decimal(1),) * 3)[tier - 1]
        cells.append(
            {
                "tier": tier,
                "energy_type": energy,
                "installed": installed[(tier, energy)],
                "required": required,
                "ratio": str(ratio),
                "threshold": str(wanted),
                "passed": ratio >= wanted,
            }
        )
        lowest = ratio if lowest is None else min(lowest, ratio)
    if not cells:
        return CheckResult(
            "EQUIPMENT_RATIO", None, "GB 17167-2006 表3", None, evidence.period, {"why": "no points required"}
        )
    passed = all(c["passed"] for c in cells)
    return CheckResult("EQUIPMENT_RATIO", str(lowest), "GB 17167-2006 表3", passed, evidence.period, {"cells": cells})


def calibration_valid(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Meters within their calibration date at the period's end ÷ all meters; every tier-1 meter must be valid."""
    if not evidence.meters:
        return CheckResult("CALIBRATION_VALID", None, None, None, evidence.period, {"why": "no meters registered"})
    end = evidence.period.end
    lapsed = [m for m in evidence.meters if m.calibration_due is None or m.calibration_due < end]
    tier1 = [m for m in evidence.meters if m.tier == 1]
    tier1_valid = _ratio(sum(1 for m in tier1 if m not in lapsed), len(tier1)) if tier1 else Decimal(1)
    value = _ratio(len(evidence.meters) - len(lapsed), len(evidence.meters))
    details = {
        "tier1": str(tier1_valid),
        "lapsed": [
            {"meter": m.point_code, "due": m.calibration_due.isoformat() if m.calibration_due else None} for m in lapsed
        ][:DETAIL_ROWS],
    }
    return CheckResult(
        "CALIBRATION_VALID",
        str(value),
        str(rules.calibration_tier1),
        tier1_valid >= rules.calibration_tier1,
        evidence.period,
        details,
    )


# --- data quality -----------------------------------------------------------------------------------------------------


def completeness(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Valid points ÷ expected points, per meter and Shanghai day; every meter-day must reach its tier's share."""
    got_total = expected_total = 0
    short: list[dict[str, Any]] = []
    short_count = 0
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        per_day = Counter(t.astimezone(SHANGHAI).date() for t in series.times)
        wanted = rules.completeness_tier1 if meter.tier == 1 else rules.completeness
        for n in range(evidence.period.days):
            day = evidence.period.start + dt.timedelta(days=n)
            expected = 1440 // meter.interval_minutes
            got = per_day.get(day, 0)
            got_total += got
            expected_total += expected
            share = _ratio(got, expected)
            if share < wanted:
                short_count += 1
                if len(short) < DETAIL_ROWS:
                    short.append({"meter": meter.point_code, "day": day.isoformat(), "share": str(share)})
    if not expected_total:
        return CheckResult("COMPLETENESS", None, None, None, evidence.period, {"why": "no meters registered"})
    value = _ratio(got_total, expected_total)
    details = {"short_days": short, "short_day_count": short_count, "tier1_threshold": str(rules.completeness_tier1)}
    return CheckResult("COMPLETENESS", str(value), str(rules.completeness), short_count == 0, evidence.period, details)


def long_gap(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """The longest run without a reading, per meter, within the period: over `long_hours` is a long gap."""
    longest = dt.timedelta(0)
    gaps: list[dict[str, Any]] = []
    for meter in evidence.meters:
        series = evidence.series[meter.id]
        step = dt.timedelta(minutes=meter.interval_minutes)
        # The first point is due one interval after the period starts; the period's end closes the last gap.
        marks = [evidence.period.since, *series.times, evidence.period.until]
        for before, after in itertools.pairwise(marks):
            missing = after - before - step
            if missing <= dt.timedelta(0):
                continue
            longest = max(longest, missing)
            if missing > dt.timedelta(hours=rules.long_gap_hours) and len(gaps) < DETAIL_ROWS:
                gaps.append(
                    {
                        "meter": meter.point_code,
                        "from": _shanghai(before),
                        "to": _shanghai(after),
                        "hours": str((Decimal(missing.total_seconds()) / 3600).quantize(Decimal("0.1"))),
                    }
                )
    hours = (Decimal(longest.total_seconds()) / 3600).quantize(Decimal("0.1"))
    passed = None if not evidence.meters else hours <= rules.long_gap_hours
    return CheckResult("LONG_GAP", str(hours), str(rules.long_gap_hours), passed, evidence.period, {"gaps": gaps})


def online_days(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Days with at least one reading ÷ days in the period, per meter; every meter must reach the share.

    Timeliness (uploaded the same day) needs the time each point was received, which is not recorded yet."""
    if not evidence.meters:
        return CheckResult("ONLINE_DAYS", None, None, None, evidence.period, {"why": "no meters registered"})
    shares = {}
    for meter in evidence.meters:
        days = {t.astimezone(SHANGHAI).date() for t in evidence.series[meter.id].times}
        shares[meter.point_code] = _ratio(len(days), evidence.period.days)
    low = {code: str(share) for code, share in shares.items() if share < rules.online_share}
    value = min(shares.values())
    details = {"below": low, "timeliness": "not judged: receipt times are not recorded yet"}
    return CheckResult("ONLINE_DAYS", str(value), str(rules.online_share), not low, evidence.period, details)


def _within(evidence: Evidence, window: Period) -> Evidence:
    """The same evidence cut to a shorter window of its period."""
    series = {meter_id: Series(s.meter, *_cut(s, window.since)) for meter_id, s in evidence.series.items()}
    return Evidence(window, evidence.meters, evidence.required, series)


def _cut(series: Series, since: dt.datetime) -> tuple[list[dt.datetime], list[Decimal]]:
    kept = [(t, v) for t, v in zip(series.times, series.values, strict=True) if t >= since]
    return [t for t, _ in kept], [v for _, v in kept]


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
        if not series.times:
            problems.append({"meter": meter.point_code, "why": "no readings in the period"})
            shortest = 0
            continue
        first_day = series.times[0].astimezone(SHANGHAI).date()
        ran = (period.end - first_day).days + 1
        shortest = ran if shortest is None else min(shortest, ran)
        if ran < rules.stable_days:
            problems.append({"meter": meter.point_code, "why": f"first valid point {first_day}: {ran} days"})
        per_day = Counter(t.astimezone(SHANGHAI).date() for t in series.times)
        for first, last in months:
            first = max(first, period.start)
            if first > last:
                continue
            expected = ((last - first).days + 1) * (1440 // meter.interval_minutes)
            got = sum(n for day, n in per_day.items() if first <= day <= last)
            share = _ratio(got, expected)
            if share < rules.stable_month_share:
                problems.append({"meter": meter.point_code, "why": f"{first:%Y-%m}: {share} complete"})
    # No long gap in the stable window (a gap before the first valid point is the time before the run, not in it).
    window = Period(period.end - dt.timedelta(days=rules.stable_days - 1), period.end)
    gap = long_gap(_within(evidence, window), rules)
    if gap.passed is False:
        problems.extend({"meter": g["meter"], "why": f"gap {g['from']} to {g['to']}"} for g in gap.details["gaps"])
    details = {"problems": problems[:DETAIL_ROWS], "months": [f"{first:%Y-%m}" for first, _ in months]}
    value = str(shortest) if shortest is not None else None
    return CheckResult("STABLE_RUN_6M", value, str(rules.stable_days), not problems, period, details)


# --- consumption ---------------------------------------------------------------------------------------------------


def consumption(series: Series) -> Decimal:
    """What the meter counted in the period: the register's rise for a cumulative meter, else the sum."""
    if not series.values:
        return Decimal(0)
    if series.meter.cumulative:
        return series.values[-1] - series.values[0]
    return sum(series.values, Decimal(0))


def annual_tce(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Seed 002: Σ tier-1 consumption × GB/T 2589 coefficients over the period (12 months) ≥ 2000 tce."""
    total = Decimal(0)
    by_type: dict[str, Decimal] = {}
    uncounted = []
    for meter in (m for m in evidence.meters if m.tier == 1):
        coefficient = rules.coefficients.get((meter.energy_type, meter.unit))
        if coefficient is None:
            uncounted.append(meter.point_code)
            continue
        tce = consumption(evidence.series[meter.id]) * coefficient / 1000
        by_type[meter.energy_type] = by_type.get(meter.energy_type, Decimal(0)) + tce
        total += tce
    if not any(m.tier == 1 for m in evidence.meters):
        return CheckResult("ANNUAL_TCE", None, str(rules.min_tce), None, evidence.period, {"why": "no tier-1 meters"})
    value = total.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    details = {
        "by_energy_type": {k: str(v.quantize(Decimal("0.01"))) for k, v in sorted(by_type.items())},
        "no_coefficient": uncounted,
    }
    return CheckResult("ANNUAL_TCE", str(value), str(rules.min_tce), value >= rules.min_tce, evidence.period, details)


def _monthly(series: Series) -> dict[str, Decimal]:
    """What the meter counted in each Shanghai month of its readings ("2026-03"): a cumulative register's rise from
    the month's last reading before it (or its own first) to its last; otherwise the sum."""
    months: dict[str, Decimal] = {}
    previous: Decimal | None = None
    start_of: dict[str, Decimal] = {}
    for at, value in zip(series.times, series.values, strict=True):
        month = at.astimezone(SHANGHAI).strftime("%Y-%m")
        if series.meter.cumulative:
            start_of.setdefault(month, previous if previous is not None else value)
            months[month] = value - start_of[month]
            previous = value
        else:
            months[month] = months.get(month, Decimal(0)) + value
    return months


def tier_balance(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """|Σ tier-2 − tier-1| ÷ tier-1, per energy type the rules name and per Shanghai month."""
    threshold = str(rules.balance_share)
    rows: list[dict[str, Any]] = []
    worst: Decimal | None = None
    for energy in rules.balance_types:
        totals: dict[int, defaultdict[str, Decimal]] = {1: defaultdict(Decimal), 2: defaultdict(Decimal)}
        for meter in evidence.meters:
            if meter.energy_type == energy and meter.tier in totals:
                for month, amount in _monthly(evidence.series[meter.id]).items():
                    totals[meter.tier][month] += amount
        if not totals[2]:
            continue
        for month in sorted(totals[1]):
            top, below = totals[1][month], totals[2][month]
            if top <= 0:
                rows.append({"energy_type": energy, "month": month, "why": "no tier-1 consumption"})
                continue
            share = (abs(below - top) / top).quantize(RATIO)
            worst = share if worst is None else max(worst, share)
            rows.append(
                {
                    "energy_type": energy,
                    "month": month,
                    "tier1": _amount(top),
                    "tier2": _amount(below),
                    "share": str(share),
                    "passed": share <= rules.balance_share,
                }
            )
    if worst is None:
        return CheckResult(
            "TIER_BALANCE", None, threshold, None, evidence.period, {"why": "no tier-2 meters", "months": rows}
        )
    passed = all(r.get("passed", True) for r in rows)
    return CheckResult("TIER_BALANCE", str(worst), threshold, passed, evidence.period, {"months": rows})


CHECKS: dict[str, Callable[[Evidence, EvidenceRules], CheckResult]] = {
    "EQUIPMENT_RATIO": equipment_ratio,
    "CALIBRATION_VALID": calibration_valid,
    "ACCESS_RATIO_T1": access_ratio(1),
    "ACCESS_RATIO_T2": access_ratio(2),
    "ACCESS_RATIO_T3": access_ratio(3),
    "COMPLETENESS": completeness,
    "LONG_GAP": long_gap,
    "ONLINE_DAYS": online_days,
    "STABLE_RUN_6M": stable_run,
    "TIER_BALANCE": tier_balance,
    "ANNUAL_TCE": annual_tce,
}


def run(evidence: Evidence, rules: EvidenceRules, names: list[str] | None = None) -> list[CheckResult]:
    """The named checks (all of them by default), in the order of CHECKS."""
    unknown = sorted(set(names or ()) - set(CHECKS))
    if unknown:
        raise KeyError(f"no check {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return [check(evidence, rules) for name, check in CHECKS.items() if names is None or name in names]
