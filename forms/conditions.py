"""The seeds' conditions that the @2 forms check (seed 002 §三, §四; seed 000 §二): each rule names its source.

Every rule reads its numbers from the form version's `thresholds`, so a later version can change them, and runs on
drafts too where it judges values that are there (the page shows the problem beside the field); rules that ask for
something to be present (an effect, the energy-using unit) wait for `complete`.
"""

from __future__ import annotations

import calendar as months
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from forms.checker import TIER_NAMES, Checker, pct, ratio, within

# code -> (Chinese, English) message templates of the conditions below.
MESSAGES: dict[str, tuple[str, str]] = {
    "not_positive": ("“{label}”须大于0，现为{value}", "'{label}' must be more than 0, not {value}"),
    "required_for_third_party": (
        "委托第三方服务公司建设（合同能源管理）时须填写“{label}”",
        "'{label}' is required when a service company built and invested",
    ),
    "same_as_applicant": (
        "用能单位统一社会信用代码 {value} 与申报单位相同：第三方投资时，申报单位为投资方，用能单位为另一家单位",
        "the energy-using unit's code {value} is the applicant's own: with third-party investment they differ",
    ),
    "running_under_six_months": (
        "竣工时间 {completion} 至申报日 {today} 不足{months}个月：能源管理信息系统须稳定运行{months}个月以上，"
        "{earliest} 起方可提交",
        "completed {completion}, submitted {today}: the system must run stably for {months} months or more "
        "(submit from {earliest})",
    ),
    "no_points": (
        "{tier}表具监测点数为0：接入比例无从计算，不能视为达到要求的{min}",
        "no {tier_en} metering points: an access ratio of 0 of 0 does not meet the required {min}",
    ),
    "gateway_points_below_energy_types": (
        "一级（关口）表具监测点数 {points} 少于接入的能源品种数 {count}（{names}）：每种能源至少须有1个关口计量点",
        "{points} tier-1 (gateway) points for {count} energy types ({names}): each type needs at least one",
    ),
    "park_no_large_enterprise": (
        "园区综合能耗2000tce以上企业数量为0：须至少有1家此类企业接入平台",
        "the park declares no enterprise of 2000 tce or more; at least one is needed",
    ),
    "member_access_too_low": (
        "园区企业一级（关口）表具接入率 {ratio}（{connected}/{points}）低于要求的 {min}",
        "member enterprises' tier-1 access ratio {ratio} ({connected} of {points}) is below the required {min}",
    ),
    "member_no_points": (
        "园区企业一级（关口）表具监测点数为0：接入比例无从计算，不能视为达到要求的{min}",
        "no tier-1 points declared for the member enterprises: 0 of 0 does not meet the required {min}",
    ),
    "standard_not_declared": (
        "须声明{label}",
        "the declaration '{label}' is required",
    ),
    "effect_pair_incomplete": (
        "“{label}”已填写，还须填写“{other}”，才能比较建设前后",
        "'{label}' is filled in; '{other}' is needed too, to compare before and after",
    ),
    "pue_below_one": ("“{label}”为 {value}：PUE 不可能小于1", "'{label}' is {value}: a PUE cannot be below 1"),
    "unit_missing": ("填写产品单耗时须注明“{label}”", "'{label}' is needed with the unit consumption"),
    "no_effect_claimed": (
        "须实现以下一种或多种效果：{options}。{why}",
        "at least one effect is needed: {options}. {why}",
    ),
    "data_centre_not_over": (
        "数据中心年综合能耗须超过 {min} 吨标准煤，申报为 {value} 吨标准煤",
        "a data centre must use more than {min} tce a year; declared {value} tce",
    ),
    "implausible_year": (
        "“{label}”{value} 不合理：应在 {first} 至 {last} 年之间",
        "'{label}' {value} is not plausible: between {first} and {last}",
    ),
}


def _say(c: Checker, field: str, code: str, **params: Any) -> None:
    c.tell(field, code, *MESSAGES[code], **params)


def _label(c: Checker, key: str) -> str:
    return c.label(c.field(key))


def add_months(day: dt.date, count: int) -> dt.date:
    """The same day `count` calendar months later; the month's last day where it is shorter (08-31 + 6 → 02-28)."""
    index = day.month - 1 + count
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, months.monthrange(year, month)[1]))


# --- seed 002 --------------------------------------------------------------------------------------------------


def positive_values(c: Checker) -> None:
    """Amounts that must be more than 0 (项目总投资; the monitoring fund's energy use and retrofit investment)."""
    for key in c.form.thresholds.get("positive", ()):
        value = c.values.get(key)
        if value is not None and value <= 0:
            _say(c, key, "not_positive", label=_label(c, key), value=value)


def investor_identified(c: Checker) -> None:
    """Seed 002 §三 "申报单位为项目投资主体": with a service company investing, the energy-using unit is named."""
    if c.values.get("investment_mode") != "third_party":
        return
    if c.complete:
        for key in ("energy_user_name", "energy_user_uscc"):
            if key not in c.values and not any(p.field == key for p in c.problems):
                _say(c, key, "required_for_third_party", label=_label(c, key))
    user, own = c.values.get("energy_user_uscc"), c.values.get("uscc")
    if user is not None and user == own:
        _say(c, "energy_user_uscc", "same_as_applicant", value=user)


def stable_running(c: Checker) -> None:
    """Seed 002 §四(一)(3) "稳定运行6个月以上": completion at least six calendar months before the day of submission."""
    completion, count = c.values.get("completion_date"), c.form.thresholds.get("min_running_months")
    if completion is None or count is None:
        return
    earliest = add_months(completion, int(count))
    if c.today < earliest:
        _say(c, "completion_date", "running_under_six_months", completion=completion, today=c.today,
             months=count, earliest=earliest)  # fmt: skip


def every_tier_has_points(c: Checker) -> None:
    """Zero is not compliance: a tier with no metering points does not reach its ratio (tier 1: `access_ratios`)."""
    for tier, minimum in c.form.thresholds.get("min_access_ratio", {}).items():
        if tier != "tier1" and c.values.get(f"{tier}_points") == 0:
            zh, en = TIER_NAMES[tier]
            _say(c, f"{tier}_points", "no_points", tier=zh, tier_en=en, min=pct(minimum))


def gateway_per_energy_type(c: Checker) -> None:
    """Seed 002 §四(一)(2) "实现电力、燃气、热力等全能源品种接入": at least one gateway point per energy type."""
    types, points = c.values.get("energy_types"), c.values.get("tier1_points")
    if types and points is not None and 0 < points < len(types):
        f = c.field("energy_types")
        names = "、".join(f.choice_label(t, c.lang) for t in types)
        _say(c, "tier1_points", "gateway_points_below_energy_types", points=points, count=len(types), names=names)


def park_has_large_enterprise(c: Checker) -> None:
    """Seed 002 §四(三)(1): the shares are of the park's ≥ 2000 tce enterprises, so there must be at least one."""
    if c.kind == "park" and c.values.get("park_large_enterprises") == 0:
        _say(c, "park_large_enterprises", "park_no_large_enterprise")
    if c.kind == "park" and c.values.get("park_total_energy_tce") == 0:
        _say(c, "park_total_energy_tce", "not_positive", label=_label(c, "park_total_energy_tce"), value=0)


def member_gateway_access(c: Checker) -> None:
    """Seed 002 §四(三)(2) "企业一级（关口）表具接入比例达到100％": the member enterprises' own gateway meters."""
    if c.kind != "park":
        return
    within(c, "member_tier1_connected", "member_tier1_points")
    minimum = c.form.thresholds["member_tier1_min_ratio"]
    points, connected = c.values.get("member_tier1_points"), c.values.get("member_tier1_connected")
    if points == 0:
        _say(c, "member_tier1_points", "member_no_points", min=pct(minimum))
    elif points is not None and connected is not None:
        share = ratio(connected, points)
        if share is not None and share < minimum:
            _say(c, "member_tier1_connected", "member_access_too_low", ratio=pct(share), connected=connected,
                 points=points, min=pct(minimum))  # fmt: skip


def standard_declared(c: Checker) -> None:
    """Seed 002 §四(二)(3) GB/T 40063-2021, §四(三)(3) DB31/T 1141-2019: built to the kind's standard, declared."""
    for key in ("conforms_gbt_40063", "conforms_db31_1141"):
        f = next((x for x in c.form.fields_for(c.kind) if x.key == key), None)
        if f is not None and c.values.get(key) is False:
            _say(c, key, "standard_not_declared", label=c.label(f))


# Before/after pairs of seed 002 §四(二)(4) and §四(三)(4): the effect is claimed when `after` is below `before`.
EFFECT_PAIRS = (
    ("unit_consumption_before", "unit_consumption_after"),
    ("pue_before", "pue_after"),
    ("fault_count_before", "fault_count_after"),
    ("park_energy_per_value_before", "park_energy_per_value_after"),
    ("park_carbon_per_value_before", "park_carbon_per_value_after"),
)


def effects_claimed(c: Checker) -> None:
    """Seed 002 §四(二)(4), §四(三)(4) "以下一种或多种效果": one effect at least; a saving rate counts from 5 % (含)."""
    keys = {f.key for f in c.form.fields_for(c.kind)}
    if "saving_rate_pct" not in keys:
        return
    v, counted, why_not = c.values, [], []
    for key in ("pue_before", "pue_after"):
        if key in v and v[key] < 1:
            _say(c, key, "pue_below_one", label=_label(c, key), value=v[key])
            del v[key]
    if c.complete and "unit_consumption_before" in v and "unit_consumption_unit" in keys - set(v):
        _say(c, "unit_consumption_unit", "unit_missing", label=_label(c, "unit_consumption_unit"))
    minimum: Decimal = c.form.thresholds["min_saving_rate_pct"]
    rate = v.get("saving_rate_pct")
    if rate is not None and rate >= minimum:
        counted.append("saving_rate_pct")
    elif rate is not None:
        why_not.append(
            f"节能率 {rate}% 未达到 {minimum}%（含）"
            if c.lang == "zh"
            else f"a saving rate of {rate}% is below {minimum}%"
        )
    for before, after in EFFECT_PAIRS:
        if before not in keys:
            continue
        if (before in v) != (after in v):
            have, need = (before, after) if before in v else (after, before)
            _say(c, need, "effect_pair_incomplete", label=_label(c, have), other=_label(c, need))
        elif before in v and v[after] < v[before]:
            counted.append(before)
        elif before in v:
            why_not.append(
                f"“{_label(c, after)}”{v[after]} 未低于“{_label(c, before)}”{v[before]}"
                if c.lang == "zh"
                else f"'{_label(c, after)}' {v[after]} is not below '{_label(c, before)}' {v[before]}"
            )
    if v.get("park_abnormal_warning") is True:
        counted.append("park_abnormal_warning")
    if counted or not c.complete:
        return
    options = [f"{_label(c, 'saving_rate_pct')} ≥ {minimum}%"]
    options += [f"{_label(c, after)} < {_label(c, before)}" for before, after in EFFECT_PAIRS if before in keys]
    if "park_abnormal_warning" in keys:
        options.append(_label(c, "park_abnormal_warning"))
    separator = "；" if c.lang == "zh" else "; "
    _say(c, "saving_rate_pct", "no_effect_claimed", options=separator.join(options), why=separator.join(why_not))


# --- seed 000 (the monitoring fund) ----------------------------------------------------------------------------


def data_centre_over_threshold(c: Checker) -> None:
    """Seed 000 §二(一) "年综合能耗超过5000吨标准煤的数据中心": more than 5000 tce, 5000 itself not."""
    minimum = c.form.thresholds.get("data_centre_min_tce_exceeding")
    value = c.values.get("last_year_energy_tce")
    if c.kind == "data_centre" and minimum is not None and value is not None and value <= minimum:
        _say(c, "last_year_energy_tce", "data_centre_not_over", min=minimum, value=value)


def plausible_list_year(c: Checker) -> None:
    """The key-unit list's year lies between a local lower bound and the year of submission (1066 is a typo)."""
    year, first = c.values.get("key_unit_list_year"), c.form.thresholds.get("first_list_year")
    if year is not None and first is not None and not first <= year <= c.today.year:
        _say(c, "key_unit_list_year", "implausible_year", label=_label(c, "key_unit_list_year"), value=year,
             first=first, last=c.today.year)  # fmt: skip


CONDITIONS: dict[str, Callable[[Checker], None]] = {
    "positive_values": positive_values,
    "investor_identified": investor_identified,
    "stable_running": stable_running,
    "every_tier_has_points": every_tier_has_points,
    "gateway_per_energy_type": gateway_per_energy_type,
    "park_has_large_enterprise": park_has_large_enterprise,
    "member_gateway_access": member_gateway_access,
    "standard_declared": standard_declared,
    "effects_claimed": effects_claimed,
    "data_centre_over_threshold": data_centre_over_threshold,
    "plausible_list_year": plausible_list_year,
}
