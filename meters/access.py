"""Whether the meters are there and connected: equipment ratio (配备率), access ratio (接入率), calibration."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from meters.evidence import CheckResult, Evidence, ratio, shanghai
from meters.rules import EvidenceRules
from meters.series import DETAIL_ROWS, Series


def is_live(series: Series, evidence: Evidence, rules: EvidenceRules) -> tuple[bool, Decimal]:
    """Whether the meter is connected: enough points over the last days of the period, and a recent one."""
    until = evidence.period.until
    since = max(evidence.period.since, until - dt.timedelta(days=rules.live_days))
    expected = series.expected_points(since, until)
    share = ratio(series.recent, expected) if expected else Decimal(0)  # `recent` counts from the same instant
    fresh = series.last is not None and series.last >= until - dt.timedelta(hours=rules.fresh_hours)
    return share >= rules.live_share and fresh, share


def access_ratio(tier: int) -> Callable[[Evidence, EvidenceRules], CheckResult]:
    def check(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
        """Seed 002 附表1 2.1: live meters of the tier ÷ the points it must have, counted per energy type (a surplus
        of one energy's meters does not stand in for another's, nor an output counter for an energy meter)."""
        name = f"ACCESS_RATIO_T{tier}"
        wanted = {energy: n for (t, energy), n in evidence.required.items() if t == tier and n}
        required = sum(wanted.values())
        threshold = str(rules.access[tier])
        live: list[str] = []
        not_live: list[dict[str, Any]] = []
        counted: Counter[str] = Counter()
        for meter in (m for m in evidence.energy_meters() if m.tier == tier):
            ok, share = is_live(evidence.series[meter.id], evidence, rules)
            if ok:
                live.append(meter.point_code)
                counted[meter.energy_type] += 1
            else:
                last = evidence.series[meter.id].last
                not_live.append(
                    {"meter": meter.point_code, "share": str(share), "last": shanghai(last) if last else None}
                )
        by_type = {e: {"live": counted[e], "required": n} for e, n in sorted(wanted.items())}
        details = {"required": required, "by_energy_type": by_type, "live": live, "not_live": not_live}
        if not required:
            return CheckResult(name, None, threshold, None, evidence.period, {**details, "why": "no points required"})
        value = ratio(sum(min(counted[e], n) for e, n in wanted.items()), required)
        return CheckResult(name, str(value), threshold, value >= rules.access[tier], evidence.period, details)

    return check


def equipment_ratio(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """GB 17167-2006: meters installed ÷ meters required, per tier and energy type, against the standard's table."""
    installed = Counter((m.tier, m.energy_type) for m in evidence.meters)
    cells, lowest = [], None
    for (tier, energy), required in sorted(evidence.required.items()):
        if not required:
            continue
        share = ratio(min(installed[(tier, energy)], required), required)
        wanted = rules.equipment.get(energy, (Decimal(1),) * 3)[tier - 1]
        cells.append(
            {
                "tier": tier,
                "energy_type": energy,
                "installed": installed[(tier, energy)],
                "required": required,
                "ratio": str(share),
                "threshold": str(wanted),
                "passed": share >= wanted,
            }
        )
        lowest = share if lowest is None else min(lowest, share)
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
    tier1_valid = ratio(sum(1 for m in tier1 if m not in lapsed), len(tier1)) if tier1 else Decimal(1)
    value = ratio(len(evidence.meters) - len(lapsed), len(evidence.meters))
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
