"""Consumption and effects: ANNUAL_TCE, TIER_BALANCE, SAVING_RATE, PUE_METERED, PARK_COVERAGE (../shared/EVIDENCE.md).

Energy is converted to standard coal with the GB/T 2589 coefficients of the rules (electricity at its equivalent
value); a meter whose energy type and unit have no coefficient is listed, never counted as zero. The unit's own
gateway (tier 1, no park member named) is what its consumption is; a park member's gateway meters count for that
member. Where a figure is compared with what the application declared, both are shown with the difference.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from typing import Any

from meters.access import is_live
from meters.evidence import RATIO, CheckResult, Evidence, amount, ratio
from meters.integrity import consumption, monthly
from meters.models import Meter
from meters.rules import EvidenceRules

TCE = Decimal("0.01")
KWH = ("electricity", "kWh")


def _own_gateways(evidence: Evidence) -> list[Meter]:
    return [m for m in evidence.energy_meters() if m.tier == 1 and not m.member_uscc]


def tce_of(
    evidence: Evidence, meters: list[Meter], rules: EvidenceRules
) -> tuple[Decimal, dict[str, Decimal], list[str]]:
    """Σ consumption × coefficient ÷ 1000 over the meters with readings loaded: total, by energy type, uncounted."""
    total = Decimal(0)
    by_type: dict[str, Decimal] = defaultdict(Decimal)
    uncounted = []
    for meter in meters:
        coefficient = rules.coefficients.get((meter.energy_type, meter.unit))
        series = evidence.series.get(meter.id)
        if coefficient is None:
            uncounted.append(meter.point_code)
            continue
        if series is None:
            continue
        tce = consumption(series) * coefficient / 1000
        by_type[meter.energy_type] += tce
        total += tce
    return total, dict(by_type), uncounted


def _declared(evidence: Evidence, key: str) -> Decimal | None:
    value = evidence.declared.get(key)
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None


def annual_tce(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Seed 002: Σ the unit's gateway consumption × GB/T 2589 coefficients over the period (12 months) ≥ 2000 tce,
    beside the annual energy use the form declares."""
    gateways = _own_gateways(evidence)
    if not gateways:
        return CheckResult("ANNUAL_TCE", None, str(rules.min_tce), None, evidence.period, {"why": "no tier-1 meters"})
    total, by_type, uncounted = tce_of(evidence, gateways, rules)
    value = total.quantize(TCE, rounding=ROUND_DOWN)
    details: dict[str, Any] = {
        "by_energy_type": {k: str(v.quantize(TCE)) for k, v in sorted(by_type.items())},
        "no_coefficient": uncounted,
    }
    declared = _declared(evidence, "last_year_energy_tce")
    if declared is not None:
        details["declared"] = amount(declared)
        details["difference"] = str((value - declared).quantize(TCE))
    return CheckResult("ANNUAL_TCE", str(value), str(rules.min_tce), value >= rules.min_tce, evidence.period, details)


def tier_balance(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """|Σ tier-2 − tier-1| ÷ tier-1, per energy type the rules name and per Shanghai month."""
    threshold = str(rules.balance_share)
    rows: list[dict[str, Any]] = []
    worst: Decimal | None = None
    for energy in rules.balance_types:
        totals: dict[int, defaultdict[str, Decimal]] = {1: defaultdict(Decimal), 2: defaultdict(Decimal)}
        for meter in evidence.energy_meters():
            if meter.energy_type == energy and meter.tier in totals and not meter.member_uscc:
                for month, counted in monthly(evidence.series[meter.id]).items():
                    totals[meter.tier][month] += counted
        if not totals[2]:
            continue
        for month in sorted(totals[1]):
            top, below = totals[1][month], totals[2][month]
            if top <= 0:
                rows.append({"energy_type": energy, "month": month, "why": "no tier-1 consumption"})
                continue
            exact = abs(below - top) / top
            share = exact.quantize(RATIO)
            worst = share if worst is None else max(worst, share)
            rows.append(
                {
                    "energy_type": energy,
                    "month": month,
                    "tier1": amount(top),
                    "tier2": amount(below),
                    "share": str(share),
                    "passed": exact <= rules.balance_share,
                }
            )
    if worst is None:
        return CheckResult(
            "TIER_BALANCE", None, threshold, None, evidence.period, {"why": "no tier-2 meters", "months": rows}
        )
    passed = all(r.get("passed", True) for r in rows)
    return CheckResult("TIER_BALANCE", str(worst), threshold, passed, evidence.period, {"months": rows})


def _output(evidence: Evidence, rules: EvidenceRules) -> tuple[Decimal, set[str]]:
    total, units = Decimal(0), set()
    for meter in (m for m in evidence.meters if m.purpose == "output"):
        series = evidence.series.get(meter.id)
        if series is not None:
            total += consumption(series)
            units.add(meter.unit)
    return total, units


def _covered(evidence: Evidence, meters: list[Meter]) -> int:
    """Days of the period on which every one of the meters has a reading."""
    days: set[dt.date] | None = None
    for meter in meters:
        series = evidence.series.get(meter.id)
        mine = set(series.per_day) if series is not None else set()
        days = mine if days is None else days & mine
    return len(days or ())


def saving_rate(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Seed 002 "节能率达到5%（含）以上": ξ = (e_base − e_report) ÷ e_base with e = tce ÷ output (GB/T 13234), the
    period against the period of the same length before it; a positive ξ is a saving."""
    threshold = str(rules.min_saving_rate)
    base = evidence.base
    details: dict[str, Any] = {"report_period": evidence.period.as_dict()}
    declared = _declared(evidence, "saving_rate_pct")
    if declared is not None:
        details["declared_pct"] = amount(declared)
    if base is None:
        return CheckResult("SAVING_RATE", None, threshold, None, evidence.period, {**details, "why": "no base period"})
    details["base_period"] = base.period.as_dict()
    outputs = [m for m in evidence.meters if m.purpose == "output"]
    gateways = _own_gateways(evidence)
    if not gateways or not outputs:
        why = "needs the unit's gateway meters and an output meter (energy ÷ output, GB/T 13234)"
        return CheckResult("SAVING_RATE", None, threshold, None, evidence.period, {**details, "why": why})
    # Each period must be covered by data, or the comparison is of a few days against a year.
    for label, side in (("report", evidence), ("base", base)):
        covered = _covered(side, [*gateways, *outputs])
        details[f"{label}_days_with_data"] = covered
        if covered < rules.saving_coverage * side.period.days:
            why = f"the {label} period has data on {covered} of its {side.period.days} days for every meter compared"
            return CheckResult("SAVING_RATE", None, threshold, None, evidence.period, {**details, "why": why})
    report_tce, _, _ = tce_of(evidence, gateways, rules)
    base_tce, _, _ = tce_of(base, gateways, rules)
    report_out, units = _output(evidence, rules)
    base_out, _ = _output(base, rules)
    details.update(
        {
            "report_tce": str(report_tce.quantize(TCE)),
            "base_tce": str(base_tce.quantize(TCE)),
            "report_output": amount(report_out),
            "base_output": amount(base_out),
            "output_unit": "/".join(sorted(units)),
        }
    )
    if base_tce <= 0 or base_out <= 0 or report_out <= 0:
        why = "no energy or output counted in one of the periods"
        return CheckResult("SAVING_RATE", None, threshold, None, evidence.period, {**details, "why": why})
    e_base, e_report = base_tce / base_out, report_tce / report_out
    exact = (e_base - e_report) / e_base
    details.update(
        {"e_base": str(e_base.quantize(Decimal("0.000001"))), "e_report": str(e_report.quantize(Decimal("0.000001")))}
    )
    value = exact.quantize(RATIO, rounding=ROUND_DOWN)
    return CheckResult("SAVING_RATE", str(value), threshold, exact >= rules.min_saving_rate, evidence.period, details)


def _kwh_equivalent(meter: Meter, counted: Decimal, rules: EvidenceRules) -> Decimal | None:
    """What a gateway meter counted as equivalent electricity (kWh): through standard coal for other energies."""
    if meter.energy_type == "electricity":
        return counted * 1000 if meter.unit == "MWh" else counted
    coefficient = rules.coefficients.get((meter.energy_type, meter.unit))
    return counted * coefficient / rules.coefficients[KWH] if coefficient is not None else None


def pue_by_month(evidence: Evidence, rules: EvidenceRules) -> dict[str, tuple[Decimal, Decimal]]:
    """Per Shanghai month: (total energy as equivalent kWh, IT energy kWh)."""
    months: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for meter in evidence.energy_meters():
        series = evidence.series.get(meter.id)
        if series is None:
            continue
        it_load = meter.purpose == "it_load"
        if not it_load and (meter.tier != 1 or meter.member_uscc):
            continue
        for month, counted in monthly(series).items():
            kwh = _kwh_equivalent(meter, counted, rules)
            if kwh is not None:
                months[month][1 if it_load else 0] += kwh
    return {month: (t, it) for month, (t, it) in sorted(months.items())}


def _pue(months: dict[str, tuple[Decimal, Decimal]]) -> Decimal | None:
    total = sum((t for t, _ in months.values()), Decimal(0))
    it = sum((i for _, i in months.values()), Decimal(0))
    return (total / it).quantize(Decimal("0.001")) if it > 0 else None


def pue_metered(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """PUE = total energy ÷ IT energy over the period (≥ `min_months` months with IT data), falling against the
    period before; above `retire_above` is flagged (Shanghai retires such data centres)."""
    threshold = f"{rules.pue_min_months} months; falling"
    if not any(m.purpose == "it_load" for m in evidence.meters):
        why = "no it_load meter registered (PUE is for data centres)"
        return CheckResult("PUE_METERED", None, threshold, None, evidence.period, {"why": why})
    months = pue_by_month(evidence, rules)
    covered = [m for m, (_, it) in months.items() if it > 0]
    value = _pue(months)
    details: dict[str, Any] = {
        "months": {m: str((t / it).quantize(Decimal("0.001"))) for m, (t, it) in months.items() if it > 0},
        "months_with_it_data": len(covered),
        "retire_above": str(rules.pue_retire_above),
        "above_retire_line": value is not None and value > rules.pue_retire_above,
    }
    for key in ("pue_before", "pue_after"):
        if (declared := _declared(evidence, key)) is not None:
            details[f"declared_{key}"] = amount(declared)
    before = _pue(pue_by_month(evidence.base, rules)) if evidence.base is not None else None
    details["before"] = str(before) if before is not None else None
    if value is None:
        return CheckResult("PUE_METERED", None, threshold, False, evidence.period, {**details, "why": "no IT energy"})
    if len(covered) < rules.pue_min_months:
        return CheckResult("PUE_METERED", str(value), threshold, False, evidence.period, details)
    if before is None:
        details["why"] = "no IT energy in the period before: the trend is not judged"
        return CheckResult("PUE_METERED", str(value), threshold, None, evidence.period, details)
    return CheckResult("PUE_METERED", str(value), threshold, value < before, evidence.period, details)


def park_coverage(evidence: Evidence, rules: EvidenceRules) -> CheckResult:
    """Seed 002 附表2 1.1: the park's enterprises of ≥ 2000 tce a year connected (a live gateway meter on the park's
    platform) ÷ all such, and their consumption ÷ the park's total; both ≥ 50 %. The denominators are the form's."""
    threshold = f"{rules.park_count_share} / {rules.park_energy_share}"
    members: dict[str, list[Meter]] = defaultdict(list)
    for meter in evidence.energy_meters():
        if meter.tier == 1 and meter.member_uscc:
            members[meter.member_uscc].append(meter)
    if not members:
        why = "no park member's gateway meter registered (the member column)"
        return CheckResult("PARK_COVERAGE", None, threshold, None, evidence.period, {"why": why})
    rows: list[dict[str, Any]] = []
    for uscc, meters in sorted(members.items()):
        tce, _, _ = tce_of(evidence, meters, rules)
        connected = any(is_live(evidence.series[m.id], evidence, rules)[0] for m in meters)
        rows.append(
            {
                "member": uscc,
                "tce": str(tce.quantize(TCE)),
                "connected": connected,
                "large": tce >= rules.park_large_tce,
            }
        )
    large = [r for r in rows if r["large"] and r["connected"]]
    large_tce = sum((Decimal(r["tce"]) for r in large), Decimal(0))
    declared_count = _declared(evidence, "park_large_enterprises")
    declared_total = _declared(evidence, "park_total_energy_tce")
    details: dict[str, Any] = {
        "members": rows[:50],
        "connected_large": len(large),
        "connected_large_tce": amount(large_tce),
    }
    if not declared_count or not declared_total:
        why = "the form's count of ≥ 2000 tce enterprises and the park's total energy are the denominators"
        return CheckResult("PARK_COVERAGE", None, threshold, None, evidence.period, {**details, "why": why})
    count_share = ratio(len(large), declared_count)
    energy_share = ratio(large_tce, declared_total)
    details.update(
        {
            "declared_large": amount(declared_count),
            "declared_total_tce": amount(declared_total),
            "count_share": str(count_share),
            "energy_share": str(energy_share),
        }
    )
    passed = count_share >= rules.park_count_share and energy_share >= rules.park_energy_share
    return CheckResult(
        "PARK_COVERAGE", str(min(count_share, energy_share)), threshold, passed, evidence.period, details
    )
