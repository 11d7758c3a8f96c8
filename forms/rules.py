"""The form's rules: each refusal names its field, a code, and says the rule and the numbers (zh or en)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from forms.checker import LANDLINE, MOBILE, TIER_NAMES, Checker, pct, ratio, within
from forms.conditions import CONDITIONS
from forms.fields import FormVersion
from workflow.errors import Problem

__all__ = ["LANDLINE", "MOBILE", "Checker", "computed", "ratio", "validate"]

# --- cross-field rules ------------------------------------------------------------------------------------------


def dates_in_order(c: Checker) -> None:
    start, end = c.values.get("start_date"), c.values.get("completion_date")
    if start and end and end < start:
        c.say("completion_date", "before_start", start=start, end=end)


def investment_parts_sum(c: Checker) -> None:
    keys = ("investment_construction_wan", "investment_equipment_wan", "investment_software_wan",
            "investment_other_wan")  # fmt: skip
    total = c.values.get("total_investment_wan")
    parts: list[Decimal] = [c.values[k] for k in keys if k in c.values]
    if total is not None and len(parts) == len(keys):
        summed = sum(parts, Decimal(0))
        if summed != total:
            a, b, d, e = parts
            c.say("total_investment_wan", "parts_do_not_sum", a=a, b=b, c=d, d=e, sum=summed, total=total)


def connected_within_points(c: Checker) -> None:
    for tier in ("tier1", "tier2", "tier3"):
        within(c, f"{tier}_connected", f"{tier}_points")


def retrofitted_within_points(c: Checker) -> None:
    within(c, "tier1_retrofitted", "tier1_points")


def energy_threshold(c: Checker) -> None:
    minimum = c.form.thresholds.get("min_energy_tce", {}).get(c.kind)
    value = c.values.get("last_year_energy_tce")
    if minimum is not None and value is not None and value < minimum:
        c.say("last_year_energy_tce", "below_threshold", kind=c.kind_name(), min=minimum, value=value)


def access_ratios(c: Checker) -> None:
    minimums = c.form.thresholds.get("min_access_ratio", {})
    if c.values.get("tier1_points") == 0:
        c.say("tier1_points", "no_gateway_meters")
    for tier, minimum in minimums.items():
        points, connected = c.values.get(f"{tier}_points"), c.values.get(f"{tier}_connected")
        if points is None or connected is None:
            continue
        share = ratio(connected, points)
        if share is not None and share < minimum:  # 0 ÷ 0 (no meters of that tier): nothing to connect
            zh, en = TIER_NAMES[tier]
            c.say(f"{tier}_connected", "access_ratio_too_low", tier=zh, tier_en=en, ratio=pct(share),
                  connected=connected, points=points, min=pct(minimum))  # fmt: skip


def data_centre_platform(c: Checker) -> None:
    if c.kind == "data_centre" and c.values.get("dc_platform_connected") is False:
        c.say("dc_platform_connected", "platform_not_connected")


def park_coverage(c: Checker) -> None:
    if c.kind != "park":
        return
    within(c, "park_large_connected", "park_large_enterprises")
    within(c, "park_connected_energy_tce", "park_total_energy_tce")
    v, t = c.values, c.form.thresholds
    share = ratio(v.get("park_large_connected", 0), v.get("park_large_enterprises", 0))
    if "park_large_connected" in v and share is not None and share < t["park_min_connected_share"]:
        c.say("park_large_connected", "park_connected_share_too_low", share=pct(share),
              connected=v["park_large_connected"], total=v["park_large_enterprises"],
              min=pct(t["park_min_connected_share"]))  # fmt: skip
    energy = ratio(v.get("park_connected_energy_tce", 0), v.get("park_total_energy_tce", 0))
    if "park_connected_energy_tce" in v and energy is not None and energy < t["park_min_energy_share"]:
        c.say("park_connected_energy_tce", "park_energy_share_too_low", share=pct(energy),
              part=v["park_connected_energy_tce"], total=v["park_total_energy_tce"],
              min=pct(t["park_min_energy_share"]))  # fmt: skip


CROSS_RULES: dict[str, Callable[[Checker], None]] = {
    "dates_in_order": dates_in_order,
    "investment_parts_sum": investment_parts_sum,
    "connected_within_points": connected_within_points,
    "retrofitted_within_points": retrofitted_within_points,
    "energy_threshold": energy_threshold,
    "access_ratios": access_ratios,
    "data_centre_platform": data_centre_platform,
    "park_coverage": park_coverage,
    **CONDITIONS,  # the @2 forms' conditions (forms.conditions)
}


def validate(
    form: FormVersion,
    kind: str,
    data: dict[str, Any],
    *,
    complete: bool,
    lang: str = "zh",
    today: dt.date | None = None,
) -> list[Problem]:
    """Every problem with `data`. complete=False (a draft): only what is filled in is checked.

    `today` (default: today in Shanghai) is the day of submission that time rules count from."""
    c = Checker(form, kind, lang, today, complete)
    by_key = {f.key: f for f in form.fields}
    for key, raw in data.items():
        f = by_key.get(key)
        if f is None:
            c.say(key, "unknown_field", key=key)
        elif not f.applies_to(kind):
            c.say(key, "not_for_kind", label=c.label(f), kind=c.kind_name())
        elif raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []:
            continue
        else:
            c.parse(f, raw)
    if complete:
        for f in form.fields_for(kind):
            if f.required and f.key not in c.values and not any(p.field == f.key for p in c.problems):
                c.say(f.key, "required", label=c.label(f))
    for name in form.rules:
        CROSS_RULES[name](c)
    return c.problems


def computed(form: FormVersion, kind: str, data: dict[str, Any]) -> dict[str, str | None]:
    """Ratios and shares worked out from the counts (never typed by the applicant), as decimal strings."""
    c = Checker(form, kind)
    by_key = {f.key: f for f in form.fields_for(kind)}
    for key, raw in data.items():
        if key in by_key and raw not in (None, ""):
            c.parse(by_key[key], raw)
    v = c.values
    out: dict[str, str | None] = {}
    for tier in ("tier1", "tier2", "tier3"):
        if f"{tier}_points" in by_key:
            share = ratio(v.get(f"{tier}_connected", 0), v.get(f"{tier}_points", 0))
            out[f"{tier}_access_ratio"] = str(share) if share is not None else None
    if kind == "park":
        for name, part, whole in (
            ("park_connected_share", "park_large_connected", "park_large_enterprises"),
            ("park_energy_share", "park_connected_energy_tce", "park_total_energy_tce"),
        ):
            share = ratio(v.get(part, 0), v.get(whole, 0))
            out[name] = str(share) if share is not None else None
    return out
