"""A draft's diff against the version it was copied from: what changes, in the domain's words, before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.round_models import ProgrammeDraft

# The award rule's roundings (review.awards.ROUNDINGS, which the engine may not import).
ROUNDINGS = {"down": ("舍去", "rounded down"), "half_up": ("四舍五入", "rounded half up")}
KIND_WORDS = {
    "enterprise": ("工业企业", "enterprise"),
    "data_centre": ("数据中心", "data centre"),
    "park": ("园区", "park"),
}


@dataclass(frozen=True)
class Change:
    """One line of a draft's diff: what changed, in the domain's words, with the value before and after."""

    key: str
    what_zh: str
    what_en: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "what": self.what_zh,
            "what_en": self.what_en,
            "before": self.before,
            "after": self.after,
        }


def state_words(raw: dict[str, Any], state: str) -> tuple[str, str]:
    label = (raw.get("states", {}).get(state) or {}).get("label", {})
    return str(label.get("zh") or state), str(label.get("en") or state)


def decimal_or_none(value: Any) -> Decimal | None:
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 200 else text[:199] + "…"
    return str(value)


def _transitions(raw: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for spec in raw.get("transitions", []):
        sources = spec.get("source")
        for source in [sources] if isinstance(sources, str) else list(sources or []):
            out[(str(spec.get("trigger")), str(source))] = spec
    return out


# Keys the diff names in the domain's words; any other key that changed is shown as it is.
_NAMED = {
    "window",
    "attachments",
    "deadlines",
    "checklists",
    "award",
    "transitions",
    "states",
    "version",
    "local_settings",
}


def _compare(key: str, zh: str, en: str, was: Any, now: Any, differ: bool | None = None) -> list[Change]:
    """One line of the diff when the values differ (or `differ` says so), none when they agree."""
    changed = was != now if differ is None else differ
    return [Change(key, zh, en, _shown(was), _shown(now))] if changed else []


AWARD_WORDS = {
    "rate": ("金额规则：费率", "Award rule: rate"),
    "cap_yuan": ("金额规则：每个项目上限（元）", "Award rule: cap per project (yuan)"),
    "rounding": ("金额规则：取整到元", "Award rule: rounding to the yuan"),
    "eligible": ("金额规则：计入的投资", "Award rule: counted investment"),
}


def _rounding_words(value: Any) -> Any:
    return " / ".join(ROUNDINGS[value]) if value in ROUNDINGS else value


def diff(draft: ProgrammeDraft) -> list[Change]:
    """What publishing the draft changes against the version it was copied from, in the domain's words."""
    before, after = draft.based_on.definition, draft.definition
    changes: list[Change] = []
    w0, w1 = before.get("window") or {}, after.get("window") or {}
    for end, zh, en in (("opens", "申报开始日", "Applications open"), ("closes", "申报截止日", "Applications close")):
        changes += _compare(f"window.{end}", zh, en, w0.get(end), w1.get(end))
    a0, a1 = before.get("attachments") or {}, after.get("attachments") or {}
    changes += _compare(
        "special_audit_from_wan",
        "须提交专项审计报告的项目总投资起点（万元）",
        "Special audit report from a total investment of (万元)",
        a0.get("special_audit_from_wan"),
        a1.get("special_audit_from_wan"),
    )
    for key in sorted((set(a0) | set(a1)) - {"special_audit_from_wan"}):
        changes += _compare(f"attachments.{key}", f"附件要求 {key}", f"Attachments {key}", a0.get(key), a1.get(key))
    d0, d1 = before.get("deadlines", {}), after.get("deadlines", {})
    for state in sorted(set(d0) | set(d1)):
        s0, s1 = d0.get(state) or {}, d1.get(state) or {}
        zh_state, en_state = state_words(after if state in d1 else before, state)
        working = (s1 or s0).get("working_days")
        changes += _compare(
            f"deadline.{state}",
            f"“{zh_state}”默认期限（{'工作日' if working else '日'}）",
            f"Default deadline in “{en_state}” ({'working days' if working else 'days'})",
            s0.get("default_days"),
            s1.get("default_days"),
            differ=(s0.get("default_days"), s0.get("working_days")) != (s1.get("default_days"), s1.get("working_days")),
        )
    c0, c1 = before.get("checklists", {}), after.get("checklists", {})
    for kind in sorted(set(c0) | set(c1)):
        zh_kind, en_kind = KIND_WORDS.get(kind, (kind, kind))
        changes += _compare(
            f"checklist.{kind}", f"现场核查表（{zh_kind}）", f"Site checklist ({en_kind})", c0.get(kind), c1.get(kind)
        )
    r0, r1 = before.get("award") or {}, after.get("award") or {}
    for key in sorted(set(r0) | set(r1)):
        zh, en = AWARD_WORDS.get(key, (f"金额规则：{key}", f"Award rule: {key}"))
        was, now = r0.get(key), r1.get(key)
        words = _rounding_words if key == "rounding" else (lambda v: v)  # in words: 舍去 / rounded down
        changes += _compare(f"award.{key}", zh, en, words(was), words(now), differ=_decimal_or(was) != _decimal_or(now))
    t0, t1 = _transitions(before), _transitions(after)
    for trigger, source in sorted(set(t0) | set(t1)):
        spec0, spec1 = t0.get((trigger, source)), t1.get((trigger, source))
        zh_source, en_source = state_words(after if spec1 else before, source)
        changes += _compare(
            f"transition.{trigger}.{source}",
            f"“{zh_source}”中的操作 {trigger}（去向）",
            f"Action {trigger} in “{en_source}” (leads to)",
            spec0.get("dest") if spec0 else None,
            spec1.get("dest") if spec1 else None,
            differ=spec0 != spec1,
        )
    st0, st1 = before.get("states", {}), after.get("states", {})
    for state in sorted(set(st0) | set(st1)):
        zh_state, en_state = state_words(after if state in st1 else before, state)
        changes += _compare(
            f"state.{state}", f"状态“{zh_state}”", f"State “{en_state}”", st0.get(state), st1.get(state)
        )
    for key in sorted((set(before) | set(after)) - _NAMED):
        changes += _compare(key, key, key, before.get(key), after.get(key))
    if draft.budget_amount is not None:  # set when published: nothing before it, so no "—" either
        year = draft.budget_year
        zh, en = f"{year} 年度预算（元，发布时设定）", f"Budget for {year} (yuan, set when published)"
        changes.append(Change(f"budget.{year}", zh, en, "", f"{draft.budget_amount:,.2f}"))
    return changes


def _decimal_or(value: Any) -> Any:
    found = decimal_or_none(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    return found if found is not None else value
