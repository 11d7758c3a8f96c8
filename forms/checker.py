"""Parsing one form's values: each field's type, and each refusal with its field, code and message (zh or en)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from forms import fields as F
from forms.fields import Field, FormVersion
from forms.uscc import problem as uscc_problem
from workflow import workdays
from workflow.accounts import DISTRICTS
from workflow.db import utcnow
from workflow.errors import Problem

# Digits before the decimal point of any number a form keeps: "1e999999" would take half a minute to become an int,
# and overflow every sum and ratio after it.
MAX_DIGITS = 15

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")

# code -> (Chinese, English) message templates.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("请填写“{label}”", "'{label}' is required"),
    "unknown_field": ("表单没有“{key}”这一项", "the form has no field '{key}'"),
    "not_for_kind": ("“{label}”不适用于{kind}", "'{label}' does not apply to applicant kind '{kind}'"),
    "too_long": ("“{label}”最多{max}个字，现为{n}个", "'{label}' has at most {max} characters, not {n}"),
    "not_text": ("“{label}”应为文字", "'{label}' must be text"),
    "invalid_uscc": ("统一社会信用代码“{value}”有误：{why}", "unified social credit code '{value}' is invalid: {why}"),
    "invalid_phone": (
        "“{value}”不是有效的手机号码或座机号码（如 13812345678、021-64220000）",
        "'{value}' is not a mobile or landline number (e.g. 13812345678, 021-64220000)",
    ),
    "invalid_date": (
        "“{label}”应为日期（如 2026-03-31），不是“{value}”",
        "'{label}' must be a date like 2026-03-31, not '{value}'",
    ),
    "not_a_number": ("“{label}”应为数字，不是“{value}”", "'{label}' must be a number, not '{value}'"),
    "negative": ("“{label}”不能为负数（{value}）", "'{label}' cannot be negative ({value})"),
    "too_large": (
        "“{label}”数值过大，整数部分最多{digits}位",
        "'{label}' is too large: at most {digits} digits before the decimal point",
    ),
    "too_precise": ("“{label}”最多保留{places}位小数（{value}）", "'{label}' has at most {places} decimals ({value})"),
    "not_an_integer": ("“{label}”应为整数，不是“{value}”", "'{label}' must be a whole number, not '{value}'"),
    "not_a_boolean": ("“{label}”应为是或否", "'{label}' must be true or false"),
    "invalid_choice": (
        "“{label}”应为以下之一：{choices}，不是“{value}”",
        "'{label}' must be one of: {choices}; not '{value}'",
    ),
    "invalid_choices": (
        "“{label}”应从以下选择一项或多项（不重复）：{choices}",
        "'{label}' takes one or more of: {choices} (each once)",
    ),
    "above_hundred": (
        "“{label}”为百分数，不能超过100（{value}）",
        "'{label}' is a percentage and cannot exceed 100 ({value})",
    ),
    "invalid_district": (
        "“{value}”不是上海市的区（可选：{choices}）",
        "'{value}' is not a Shanghai district (one of: {choices})",
    ),
    "before_start": (
        "竣工时间 {end} 早于开工时间 {start}",
        "completion date {end} is before the start date {start}",
    ),
    "parts_do_not_sum": (
        "工程建设 {a} + 计量采集上传设备 {b} + 软件 {c} + 其他 {d} = {sum} 万元，不等于项目总投资 {total} 万元",
        "construction {a} + equipment {b} + software {c} + other {d} = {sum} (10k yuan), not the total {total}",
    ),
    "exceeds_points": (
        "“{label}”{connected} 超过总数 {points}",
        "'{label}' {connected} exceeds the total of {points}",
    ),
    "below_threshold": (
        "{kind}年综合能耗须达 {min} 吨标准煤（含）以上，申报为 {value} 吨标准煤",
        "{kind}s must use at least {min} tce a year; declared {value} tce",
    ),
    "no_gateway_meters": ("一级（关口）表具监测点数至少为 1", "there must be at least one tier-1 (gateway) point"),
    "access_ratio_too_low": (
        "{tier}表具接入率 {ratio}（{connected}/{points}）低于要求的 {min}",
        "{tier_en} access ratio {ratio} ({connected} of {points}) is below the required {min}",
    ),
    "platform_not_connected": (
        "数据中心须完成接入市经济信息化委“上海市数据中心能耗在线监测平台”",
        "a data centre must be connected to the municipal data-centre energy monitoring platform",
    ),
    "park_connected_share_too_low": (
        "接入平台的2000tce以上企业占比 {share}（{connected}/{total}）低于 {min}",
        "connected share of ≥ 2000 tce enterprises {share} ({connected} of {total}) is below {min}",
    ),
    "park_energy_share_too_low": (
        "接入平台企业能耗占园区总能耗 {share}（{part}/{total} 吨标准煤）低于 {min}",
        "connected enterprises' share of park energy {share} ({part} of {total} tce) is below {min}",
    ),
}

KIND_NAMES = {"enterprise": ("工业企业", "industrial enterprise"), "data_centre": ("数据中心", "data centre"),
              "park": ("园区", "park")}  # fmt: skip
TIER_NAMES = {"tier1": ("一级（关口）", "tier-1 (gateway)"), "tier2": ("二级", "tier-2"), "tier3": ("三级", "tier-3")}


class Checker:
    """Parses one form's values and collects every problem, in one language.

    `today` is the Shanghai date the rules judge time against (the day of submission)."""

    def __init__(
        self, form: FormVersion, kind: str, lang: str = "zh", today: dt.date | None = None, complete: bool = False
    ):
        self.form, self.kind, self.lang = form, kind, "en" if lang == "en" else "zh"
        self.today = today or shanghai_today()
        self.complete = complete  # judging a submission (True) or a draft
        self.values: dict[str, Any] = {}  # parsed, valid values only
        self.problems: list[Problem] = []

    def say(self, field: str, code: str, **params: Any) -> None:
        self.tell(field, code, *MESSAGES[code], **params)

    def tell(self, field: str, code: str, zh: str, en: str, **params: Any) -> None:
        """A problem from the two templates given (rules outside this module keep their own)."""
        self.problems.append(Problem(field, code, (en if self.lang == "en" else zh).format(**params)))

    def field(self, key: str) -> Field:
        return next(f for f in self.form.fields if f.key == key)

    def label(self, f: Field) -> str:
        return f.en if self.lang == "en" else f.zh

    def kind_name(self) -> str:
        names = KIND_NAMES.get(self.kind, (self.kind, self.kind))
        return names[1] if self.lang == "en" else names[0]

    def parse(self, f: Field, raw: Any) -> None:
        parser = PARSERS[f.type]
        value = parser(self, f, raw)
        if value is not None:
            self.values[f.key] = value


def _number(c: Checker, f: Field, raw: Any, places: int) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        c.say(f.key, "not_a_number", label=c.label(f), value=raw)
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        c.say(f.key, "not_a_number", label=c.label(f), value=raw)
        return None
    if not value.is_finite():
        c.say(f.key, "not_a_number", label=c.label(f), value=raw)
        return None
    if value < 0:
        c.say(f.key, "negative", label=c.label(f), value=raw)
        return None
    if value.adjusted() >= MAX_DIGITS:  # the exponent alone: nothing is computed with the value first
        c.say(f.key, "too_large", label=c.label(f), digits=MAX_DIGITS)
        return None
    if -value.as_tuple().exponent > places:  # type: ignore[operator]
        c.say(f.key, "too_precise", label=c.label(f), places=places, value=raw)
        return None
    return value


def _text(c: Checker, f: Field, raw: Any) -> str | None:
    if not isinstance(raw, str):
        c.say(f.key, "not_text", label=c.label(f))
        return None
    value = raw.strip()
    if len(value) > f.max_length:
        c.say(f.key, "too_long", label=c.label(f), max=f.max_length, n=len(value))
        return None
    return value


def _uscc(c: Checker, f: Field, raw: Any) -> str | None:
    value = _text(c, f, raw)
    if value is None:
        return None
    why = uscc_problem(value.upper(), c.lang)
    if why:
        c.say(f.key, "invalid_uscc", value=value, why=why)
        return None
    return value.upper()


def _phone(c: Checker, f: Field, raw: Any) -> str | None:
    value = _text(c, f, raw)
    if value is None:
        return None
    compact = value.replace(" ", "")
    if not (MOBILE.match(compact) or LANDLINE.match(compact)):
        c.say(f.key, "invalid_phone", value=value)
        return None
    return compact


def _date(c: Checker, f: Field, raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        c.say(f.key, "invalid_date", label=c.label(f), value=raw)
        return None


def _count(c: Checker, f: Field, raw: Any) -> int | None:
    value = _number(c, f, raw, places=6)
    if value is None:
        return None
    if value != value.to_integral_value():
        c.say(f.key, "not_an_integer", label=c.label(f), value=raw)
        return None
    return int(value)


def _flag(c: Checker, f: Field, raw: Any) -> bool | None:
    if not isinstance(raw, bool):
        c.say(f.key, "not_a_boolean", label=c.label(f))
        return None
    return raw


def _choices_text(c: Checker, f: Field) -> str:
    return "、".join(f"{key}（{f.choice_label(key, c.lang)}）" for key, _, _ in f.choices)


def _choice(c: Checker, f: Field, raw: Any) -> str | None:
    if not isinstance(raw, str) or raw not in {key for key, _, _ in f.choices}:
        c.say(f.key, "invalid_choice", label=c.label(f), choices=_choices_text(c, f), value=raw)
        return None
    return raw


def _choice_list(c: Checker, f: Field, raw: Any) -> list[str] | None:
    allowed = [key for key, _, _ in f.choices]
    if isinstance(raw, str):
        raw = [part for part in raw.replace("，", ",").split(",") if part.strip()]
    if (
        not isinstance(raw, list)
        or not raw
        or any(not isinstance(v, str) or v.strip() not in allowed for v in raw)
        or len({v.strip() for v in raw}) != len(raw)
    ):
        c.say(f.key, "invalid_choices", label=c.label(f), choices=_choices_text(c, f))
        return None
    return sorted((v.strip() for v in raw), key=allowed.index)  # the field's own order, whatever was sent


def _percent(c: Checker, f: Field, raw: Any) -> Decimal | None:
    value = _number(c, f, raw, places=2)
    if value is not None and value > 100:
        c.say(f.key, "above_hundred", label=c.label(f), value=raw)
        return None
    return value


def _district(c: Checker, f: Field, raw: Any) -> str | None:
    if raw not in DISTRICTS:
        c.say(f.key, "invalid_district", value=raw, choices="、".join(DISTRICTS))
        return None
    return str(raw)


PARSERS: dict[str, Callable[[Checker, Field, Any], Any]] = {
    F.TEXT: _text,
    F.LONG_TEXT: _text,
    F.USCC: _uscc,
    F.PHONE: _phone,
    F.DATE: _date,
    F.MONEY: lambda c, f, raw: _number(c, f, raw, places=2),
    F.ENERGY: lambda c, f, raw: _number(c, f, raw, places=4),
    F.COUNT: _count,
    F.FLAG: _flag,
    F.DISTRICT: _district,
    F.CHOICE: _choice,
    F.CHOICES: _choice_list,
    F.PERCENT: _percent,
    F.NUMBER: lambda c, f, raw: _number(c, f, raw, places=4),
}


def pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.01'))}%"


def shanghai_today() -> dt.date:
    return workdays.today_in_shanghai(utcnow())


def within(c: Checker, part_key: str, whole_key: str) -> None:
    """A part (connected points, enterprises) may not exceed its whole; a broken part is dropped from the ratios."""
    part, whole = c.values.get(part_key), c.values.get(whole_key)
    if part is not None and whole is not None and part > whole:
        c.say(part_key, "exceeds_points", label=c.label(c.field(part_key)), connected=part, points=whole)
        del c.values[part_key]  # a broken count must not feed the ratio rules


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part ÷ whole, exact to 4 decimals rounded down (a ratio is never flattered upward); None for 0 ÷ 0."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
