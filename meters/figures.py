"""The series the evidence pictures are drawn from, frozen in the snapshot beside the figures they illustrate.

Daily consumption per tier and energy type (a day with no reading is null, never zero), the completeness of each
meter on each Shanghai day (one character per day, so a year of a thousand meters stays small), the gaps, and PUE by
month for a data centre. The pictures themselves are drawn by `meters.charts` from these alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from meters.effects import pue_by_month
from meters.evidence import Evidence, amount, hours, shanghai
from meters.integrity import daily
from meters.quality import gaps_of
from meters.rules import EvidenceRules

# A day's completeness as one character: "0"…"9" for 0–9x %, "A" for complete.
LEVELS = "0123456789A"
MAX_GAPS = 500  # the longest gaps are kept; the count says how many there were
MIN_GAP_HOURS = 1  # a missing point or two is completeness, not a gap worth listing

# Which picture stands beside which check (EQUIPMENT_RATIO and CALIBRATION_VALID are counts of the registry).
CHART_FOR = {
    "ACCESS_RATIO_T1": "completeness",
    "ACCESS_RATIO_T2": "completeness",
    "ACCESS_RATIO_T3": "completeness",
    "COMPLETENESS": "completeness",
    "ONLINE_DAYS": "completeness",
    "STABLE_RUN_6M": "completeness",
    "LONG_GAP": "gaps",
    "COUNTER_INTEGRITY": "daily",
    "DAY_MONTH_CONSISTENCY": "daily",
    "TIER_BALANCE": "daily",
    "ANNUAL_TCE": "daily",
    "SAVING_RATE": "daily",
    "PARK_COVERAGE": "daily",
    "PUE_METERED": "pue",
}


def level(got: int, expected: int) -> str:
    if expected <= 0 or got >= expected:
        return LEVELS[-1]
    return LEVELS[min(9, got * 10 // expected)]


def _days(evidence: Evidence) -> list[dt.date]:
    return [evidence.period.start + dt.timedelta(days=n) for n in range(evidence.period.days)]


def daily_series(evidence: Evidence, rules: EvidenceRules) -> list[dict[str, Any]]:
    """Per tier, energy type and unit: what was counted each day (null on a day no meter of them reported)."""
    days = _days(evidence)
    groups: dict[tuple[int, str, str], dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for meter in evidence.meters:
        per_day = daily(evidence.series[meter.id])
        group = groups[(meter.tier, meter.energy_type, meter.unit)]
        for day, counted in per_day.items():
            group[day] += counted
    return [
        {
            "tier": tier,
            "energy_type": energy,
            "unit": unit,
            "values": [amount(per_day[d]) if d in per_day else None for d in days],
        }
        for (tier, energy, unit), per_day in sorted(groups.items())
    ]


def completeness_grid(evidence: Evidence) -> list[dict[str, Any]]:
    """Per meter: one character per day of the period (see LEVELS)."""
    days = _days(evidence)
    rows = []
    for meter in evidence.meters:
        per_day = evidence.series[meter.id].per_day
        expected = 1440 // meter.interval_minutes
        rows.append(
            {"meter": meter.point_code, "tier": meter.tier, "days": "".join(level(per_day[d], expected) for d in days)}
        )
    return rows


def gap_list(evidence: Evidence) -> dict[str, Any]:
    """The gaps of an hour or more, longest first (at most MAX_GAPS), and how many there were."""
    found = []
    for meter in evidence.meters:
        step = dt.timedelta(minutes=meter.interval_minutes)
        for before, after in gaps_of(evidence.series[meter.id]):
            missing = after - before - step
            if missing >= dt.timedelta(hours=MIN_GAP_HOURS):
                found.append((missing, meter.point_code, before, after))
    found.sort(key=lambda g: (-g[0], g[1], g[2]))
    return {
        "count": len(found),
        "rows": [
            {"meter": code, "from": shanghai(before), "to": shanghai(after), "hours": str(hours(missing))}
            for missing, code, before, after in found[:MAX_GAPS]
        ],
    }


def figures(evidence: Evidence, rules: EvidenceRules) -> dict[str, Any]:
    """Everything the pictures need, for the snapshot."""
    out: dict[str, Any] = {
        "start": evidence.period.start.isoformat(),
        "days": evidence.period.days,
        "daily": daily_series(evidence, rules),
        "completeness": completeness_grid(evidence),
        "gaps": gap_list(evidence),
    }
    if any(m.purpose == "it_load" for m in evidence.meters):
        months = pue_by_month(evidence, rules)
        out["pue"] = [
            {"month": month, "pue": str((total / it).quantize(Decimal("0.001")))}
            for month, (total, it) in months.items()
            if it > 0
        ]
        out["pue_retire_above"] = str(rules.pue_retire_above)
    return out


def available(frozen: dict[str, Any]) -> set[str]:
    """The pictures a snapshot's figures can draw."""
    found = set()
    if frozen.get("daily"):
        found.add("daily")
    if frozen.get("completeness"):
        found.update({"completeness", "gaps"})
    if frozen.get("pue"):
        found.add("pue")
    return found


def chart_for(check: str, frozen: dict[str, Any]) -> str | None:
    """The picture that stands beside a check's figure in this snapshot, if it can be drawn."""
    chart = CHART_FOR.get(check)
    return chart if chart in available(frozen) else None
