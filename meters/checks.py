"""The meter-evidence checks (../shared/EVIDENCE.md) by name, and the way to run them.

Each check is a function of the evidence (`meters.evidence`) and the rules (`meters.rules`): access and equipment
in `meters.access`, data quality in `meters.quality`, counters in `meters.integrity`, consumption and effects in
`meters.effects`.
"""

from __future__ import annotations

from collections.abc import Callable

from meters import access, effects, integrity, quality
from meters.evidence import CheckResult, Evidence, Period, load
from meters.rules import EvidenceRules

CHECKS: dict[str, Callable[[Evidence, EvidenceRules], CheckResult]] = {
    "EQUIPMENT_RATIO": access.equipment_ratio,
    "CALIBRATION_VALID": access.calibration_valid,
    "ACCESS_RATIO_T1": access.access_ratio(1),
    "ACCESS_RATIO_T2": access.access_ratio(2),
    "ACCESS_RATIO_T3": access.access_ratio(3),
    "COMPLETENESS": quality.completeness,
    "LONG_GAP": quality.long_gap,
    "COUNTER_INTEGRITY": integrity.counter_integrity,
    "DAY_MONTH_CONSISTENCY": integrity.day_month_consistency,
    "ONLINE_DAYS": quality.online_days,
    "STABLE_RUN_6M": quality.stable_run,
    "TIER_BALANCE": effects.tier_balance,
    "ANNUAL_TCE": effects.annual_tce,
    "SAVING_RATE": effects.saving_rate,
    "PUE_METERED": effects.pue_metered,
    "PARK_COVERAGE": effects.park_coverage,
}


def run(evidence: Evidence, rules: EvidenceRules, names: list[str] | None = None) -> list[CheckResult]:
    """The named checks (all of them by default), in the order of CHECKS."""
    unknown = sorted(set(names or ()) - set(CHECKS))
    if evidence.rules is not None and evidence.rules != rules:
        raise ValueError(f"the evidence was summarised under {evidence.rules.label}, not {rules.label}: load it again")
    if unknown:
        raise KeyError(f"no check {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return [check(evidence, rules) for name, check in CHECKS.items() if names is None or name in names]


__all__ = ["CHECKS", "CheckResult", "Evidence", "Period", "load", "run"]
