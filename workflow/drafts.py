"""Rounds through pages: an administrator copies the newest programme version into a draft, changes what a round
changes (the window, the special-audit threshold, the deadlines, the checklist versions, the award rule, the
year's budget), reads the diff, and publishes it as the next version. Applications keep the version they were
created under (Application.programme_version_id), so a round never changes a file in flight.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit, definitions, registry
from workflow.accounts import Actor
from workflow.db import utcnow
from workflow.definitions import Definition, DefinitionError, Window, canonical_json, reachable_states
from workflow.errors import Forbidden, InvalidInput, NotFound, Problem
from workflow.models import ProgrammeVersion
from workflow.operations import current_programme, publish
from workflow.round_diff import KIND_WORDS, ROUNDINGS, decimal_or_none, diff, state_words
from workflow.round_models import ProgrammeDraft

# Who opens rounds: the programme's configuration is the administrator's (DOMAIN.md, roles).
ROUND_ROLES = frozenset({"admin"})
CHECKLIST_REF = re.compile(r"^([a-z0-9-]+)@([1-9][0-9]{0,3})$")
ON_PAGES_ZH = "由管理员在申报轮次页面设定"
ON_PAGES_EN = "set on the rounds page"
MAX_DAYS = 365
MAX_WAN = Decimal(1_000_000)
MAX_YUAN = Decimal(10) ** 12


@dataclass(frozen=True)
class RoundSettings:
    """What a round changes; a value left None (or a key left out) stays as it is."""

    opens: dt.date | None = None
    closes: dt.date | None = None
    special_audit_from_wan: Decimal | None = None
    deadline_days: dict[str, int] = field(default_factory=dict)  # state -> days
    checklists: dict[str, str] = field(default_factory=dict)  # applicant kind -> checklist reference
    award_rate: Decimal | None = None
    award_cap_yuan: Decimal | None = None
    award_rounding: str | None = None
    budget_year: int | None = None
    budget_amount: Decimal | None = None


def _administrator(actor: Actor) -> None:
    if actor.role not in ROUND_ROLES:
        raise Forbidden(f"only an administrator opens rounds; {actor.username} is {actor.role}")


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)


def get_draft(session: Session, draft_id: int, *, lock: bool = False) -> ProgrammeDraft:
    query = select(ProgrammeDraft).where(ProgrammeDraft.id == draft_id)
    found = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if found is None:
        raise NotFound(f"draft {draft_id} not found")
    return found


def drafts(session: Session, status: str = "open") -> list[ProgrammeDraft]:
    return list(
        session.scalars(select(ProgrammeDraft).where(ProgrammeDraft.status == status).order_by(ProgrammeDraft.id))
    )


def start_draft(session: Session, actor: Actor, code: str) -> ProgrammeDraft:
    """Copy the newest published version of `code` into a new draft."""
    _administrator(actor)
    row, definition = current_programme(session, code)
    draft = ProgrammeDraft(
        code=code,
        based_on_id=row.id,
        definition=copy.deepcopy(definition.raw),
        status="open",
        created_by_id=actor.id,
    )
    session.add(draft)
    session.flush()
    return draft


def settings_of(draft: ProgrammeDraft) -> RoundSettings:
    """The draft's round settings as they stand (what the edit form shows)."""
    raw = draft.definition
    window = raw.get("window") or {}
    award = raw.get("award") or {}
    threshold = (raw.get("attachments") or {}).get("special_audit_from_wan")
    return RoundSettings(
        opens=dt.date.fromisoformat(window["opens"]) if window.get("opens") else None,
        closes=dt.date.fromisoformat(window["closes"]) if window.get("closes") else None,
        special_audit_from_wan=Decimal(str(threshold)) if threshold is not None else None,
        deadline_days={state: int(spec.get("default_days", 10)) for state, spec in raw.get("deadlines", {}).items()},
        checklists={str(k): str(v) for k, v in raw.get("checklists", {}).items()},
        award_rate=Decimal(str(award["rate"])) if "rate" in award else None,
        award_cap_yuan=Decimal(str(award["cap_yuan"])) if "cap_yuan" in award else None,
        award_rounding=str(award["rounding"]) if "rounding" in award else None,
        budget_year=draft.budget_year,
        budget_amount=draft.budget_amount,
    )


def _open_draft(session: Session, actor: Actor, draft_id: int) -> ProgrammeDraft:
    _administrator(actor)
    draft = get_draft(session, draft_id, lock=True)
    if draft.status != "open":
        message = f"草稿 {draft.id} 已{'发布' if draft.status == 'published' else '作废'}，不能再修改"
        raise InvalidInput(message, [Problem("draft", "not_open", message)])
    return draft


def edit_draft(session: Session, actor: Actor, draft_id: int, settings: RoundSettings) -> ProgrammeDraft:
    """Change what a round changes; every value is checked first, and nothing changes if one is refused."""
    draft = _open_draft(session, actor, draft_id)
    raw = copy.deepcopy(draft.definition)
    problems: list[Problem] = []
    problems += _set_window(session, draft, raw, settings)
    problems += _set_threshold(raw, settings)
    problems += _set_deadlines(raw, settings)
    problems += _set_checklists(raw, settings)
    problems += _set_award(raw, settings)
    problems += _budget_problems(settings)
    _refuse(problems)
    draft.definition = json.loads(canonical_json(raw))
    if settings.budget_year is not None or settings.budget_amount is not None:
        draft.budget_year, draft.budget_amount = settings.budget_year, settings.budget_amount
    draft.updated_at = utcnow()
    session.flush()
    return draft


def replace_definition(session: Session, actor: Actor, draft_id: int, raw: dict[str, Any]) -> ProgrammeDraft:
    """Put a whole definition into the draft (the expert's way, from a file; the pages change only a round's
    settings). It is checked when published, as every draft is."""
    draft = _open_draft(session, actor, draft_id)
    if raw.get("code") != draft.code:
        message = f"草稿是 {draft.code} 的，定义的 code 是 {raw.get('code')}"
        raise InvalidInput(message, [Problem("definition", "other_programme", message)])
    draft.definition = json.loads(canonical_json(raw))
    draft.updated_at = utcnow()
    session.flush()
    return draft


def discard_draft(session: Session, actor: Actor, draft_id: int) -> ProgrammeDraft:
    draft = _open_draft(session, actor, draft_id)
    draft.status = "discarded"
    draft.updated_at = utcnow()
    return draft


# --- each setting: checked, then written into the draft's definition with its local-setting words ---------------


def _local(raw: dict[str, Any], key: str, value: str, zh: str, en: str, drop_prefix: str | None = None) -> None:
    local = {k: v for k, v in raw.get("local_settings", {}).items() if not (drop_prefix and k.startswith(drop_prefix))}
    local[key] = {"value": value, "zh": zh, "en": en}
    raw["local_settings"] = local


def _window_text(window: Window | None) -> str:
    if window is None:
        return "—"
    return f"{window.opens or '…'} 至 {window.closes or '…'}"


def _overlap(window: Window, newest: Window | None) -> bool:
    if newest is None:
        return False
    starts_before_end = newest.closes is None or window.opens is None or window.opens <= newest.closes
    ends_after_start = newest.opens is None or window.closes is None or window.closes >= newest.opens
    return starts_before_end and ends_after_start


def _set_window(session: Session, draft: ProgrammeDraft, raw: dict[str, Any], s: RoundSettings) -> list[Problem]:
    if s.opens is None and s.closes is None:
        return []
    if s.opens is None or s.closes is None:
        missing, given = ("opens", s.closes) if s.opens is None else ("closes", s.opens)
        message = f"申报窗口须同时填写开始日和截止日（已填 {given}）"
        return [Problem(missing, "required", message)]
    current = raw.get("window") or {}
    if current.get("opens") == s.opens.isoformat() and current.get("closes") == s.closes.isoformat():
        return []
    if s.closes < s.opens:
        return [Problem("closes", "before_opens", f"截止日 {s.closes} 早于开始日 {s.opens}")]
    _row, newest = current_programme(session, draft.code)
    window = Window(s.opens, s.closes)
    if _overlap(window, newest.window):
        message = f"新一轮 {s.opens} 至 {s.closes} 与 {newest.label} 的申报窗口 {_window_text(newest.window)} 重叠"
        return [Problem("opens", "overlaps_round", message)]
    raw["window"] = {"opens": s.opens.isoformat(), "closes": s.closes.isoformat()}
    _local(
        raw,
        "window",
        f"{s.opens.isoformat()}..{s.closes.isoformat()}",
        f"申报窗口 {s.opens} 至 {s.closes}（含首尾两日，上海时间；本地设置：{ON_PAGES_ZH}的申报轮次）",
        f"Applications open {s.opens} to {s.closes}, both days included, Shanghai time (local setting: a round "
        f"{ON_PAGES_EN})",
        drop_prefix="window",
    )
    return []


def _set_threshold(raw: dict[str, Any], s: RoundSettings) -> list[Problem]:
    value = s.special_audit_from_wan
    if value is None:
        return []
    attachments = raw.get("attachments")
    if not isinstance(attachments, dict) or "special_audit_from_wan" not in attachments:
        message = f"{raw.get('code')}@{raw.get('version')} 没有专项审计报告的投资额起点，不能设为 {value} 万元"
        return [Problem("special_audit_from_wan", "no_threshold", message)]
    if not value.is_finite() or not (0 <= value <= MAX_WAN) or value.as_tuple().exponent < -2:  # type: ignore[operator]
        message = f"专项审计报告起点应为 0 至 {MAX_WAN:,} 万元、至多两位小数，不是 {value}"
        return [Problem("special_audit_from_wan", "not_an_amount", message)]
    if Decimal(str(attachments["special_audit_from_wan"])) == value:
        return []
    attachments["special_audit_from_wan"] = int(value) if value == value.to_integral_value() else str(value)
    shown = f"{value.normalize():f}"
    _local(
        raw,
        "special_audit_from_wan",
        shown,
        f"项目总投资达到{shown}万元（含）须提交会计师事务所出具的专项审计报告（本地设置：种子文件002附件2为"
        f"“投资额100万以上”，本轮{ON_PAGES_ZH}）",
        f"A special audit report by an accounting firm is required from a total investment of {shown} 万元, "
        f"inclusive (local setting: seed 002 附件2 says from 100 万元; {ON_PAGES_EN} for this round)",
    )
    return []


def _set_deadlines(raw: dict[str, Any], s: RoundSettings) -> list[Problem]:
    problems = []
    deadlines = raw.get("deadlines", {})
    for state, days in s.deadline_days.items():
        where = f"deadline_{state}"
        if state not in deadlines:
            problems.append(Problem(where, "no_deadline", f"状态 {state} 没有期限，不能设为 {days} 天"))
            continue
        if isinstance(days, bool) or not isinstance(days, int) or not (1 <= days <= MAX_DAYS):
            problems.append(Problem(where, "out_of_range", f"期限应为 1 至 {MAX_DAYS} 天，不是 {days}"))
            continue
        spec = deadlines[state]
        if int(spec.get("default_days", 10)) == days:
            continue
        spec["default_days"] = days
        zh_state, en_state = state_words(raw, state)
        unit_zh, unit_en = ("个工作日", "working days") if spec.get("working_days") else ("日", "days")
        key = "supplement_default_days" if state == "supplement_requested" else f"{state}_default_days"
        if state == "supplement_requested":
            zh = f"补充材料期限默认为{days}{unit_zh}（本地设置，种子文件未规定；{ON_PAGES_ZH}）"
            en = (
                f"A supplement is due in {days} {unit_en} by default "
                f"(local setting; the seeds are silent; {ON_PAGES_EN})"
            )
        else:
            zh = f"“{zh_state}”期限默认为{days}{unit_zh}（本地设置；{ON_PAGES_ZH}）"
            en = f"The deadline in “{en_state}” is {days} {unit_en} by default (local setting; {ON_PAGES_EN})"
        _local(raw, key, str(days), zh, en)
    return problems


def _set_checklists(raw: dict[str, Any], s: RoundSettings) -> list[Problem]:
    problems = []
    checklists = raw.get("checklists", {})
    for kind, ref in s.checklists.items():
        where = f"checklist_{kind}"
        if kind not in checklists:
            problems.append(
                Problem(where, "no_checklist", f"{raw.get('code')} 没有“{kind}”的现场核查表，不能设为 {ref}")
            )
            continue
        found = CHECKLIST_REF.match(ref or "")
        current = CHECKLIST_REF.match(str(checklists[kind]))
        if found is None:
            problems.append(Problem(where, "not_a_reference", f"核查表版本应写作“名称@版本号”，不是“{ref}”"))
        elif current is not None and found.group(1) != current.group(1):
            message = f"“{KIND_WORDS.get(kind, (kind,))[0]}”的核查表是 {current.group(1)}，不能换成 {ref}"
            problems.append(Problem(where, "other_checklist", message))
        else:
            checklists[kind] = ref
    return problems


def _set_award(raw: dict[str, Any], s: RoundSettings) -> list[Problem]:
    if s.award_rate is None and s.award_cap_yuan is None and s.award_rounding is None:
        return []
    award = raw.get("award")
    if not isinstance(award, dict):
        message = f"{raw.get('code')}@{raw.get('version')} 没有金额规则（[award]），不能在此设定"
        return [Problem("award_rate", "no_award_rule", message)]
    problems = []
    rate = s.award_rate if s.award_rate is not None else decimal_or_none(award.get("rate"))
    cap = s.award_cap_yuan if s.award_cap_yuan is not None else decimal_or_none(award.get("cap_yuan"))
    rounding = s.award_rounding if s.award_rounding is not None else str(award.get("rounding", "down"))
    if rate is None or not (0 < rate <= 1) or rate.as_tuple().exponent < -4:  # type: ignore[operator]
        problems.append(Problem("award_rate", "out_of_range", f"费率应大于 0、不超过 1、至多四位小数，不是 {rate}"))
    if cap is None or not (0 < cap < MAX_YUAN) or cap != cap.to_integral_value():
        problems.append(Problem("award_cap_yuan", "not_money", f"每个项目上限应为大于 0 的整数元，不是 {cap}"))
    if rounding not in ROUNDINGS:
        problems.append(Problem("award_rounding", "unknown", f"取整方式应为 {' 或 '.join(ROUNDINGS)}，不是 {rounding}"))
    if problems or rate is None or cap is None:
        return problems
    before = (
        decimal_or_none(award.get("rate")),
        decimal_or_none(award.get("cap_yuan")),
        str(award.get("rounding", "down")),
    )
    if before == (rate, cap, rounding):
        return []
    award["rate"], award["cap_yuan"], award["rounding"] = f"{rate.normalize():f}", f"{int(cap)}", rounding
    pct = f"{(rate * 100).normalize():f}%"
    word = raw.get("terms", {}).get("award", "支持")
    fields = ", ".join(str(f) for f in award.get("eligible", ()))
    zh_round, en_round = ROUNDINGS[rounding]
    _local(
        raw,
        "award_rule",
        f"{pct} × ({fields}), ≤ {int(cap):,}",
        f"{word}金额按计入的投资（{fields}）之和的{pct}核定，取整到元（{zh_round}），每个项目不超过{int(cap):,}元"
        f"（本地设置，种子文件未规定费率和上限；{ON_PAGES_ZH}）",
        f"The award is {pct} of the counted investment ({fields}), {en_round} to the yuan, at most {int(cap):,} yuan "
        f"a project (local setting; the seeds state no rate or cap; {ON_PAGES_EN})",
    )
    return []


def _budget_problems(s: RoundSettings) -> list[Problem]:
    if s.budget_year is None and s.budget_amount is None:
        return []
    problems = []
    if s.budget_year is None or not (2000 <= s.budget_year <= 2100):
        problems.append(Problem("budget_year", "out_of_range", f"预算年度应在 2000 至 2100 之间，不是 {s.budget_year}"))
    amount = s.budget_amount
    if amount is None or not amount.is_finite() or not (0 <= amount < MAX_YUAN) or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        message = f"预算金额应为 0 至 {MAX_YUAN:,} 元、至多两位小数（分），不是 {amount}"
        problems.append(Problem("budget_amount", "not_money", message))
    return problems


# --- publishing ----------------------------------------------------------------------------------------------


def dead_ends(definition: Definition) -> list[str]:
    """States from which no final state can be reached (a loop with no way on): an application would be stuck."""
    terminal = {name for name, st in definition.states.items() if st.terminal}
    return [name for name in definition.states if not (reachable_states(name, definition.transitions) & terminal)]


def _definition_problems(error: DefinitionError) -> list[Problem]:
    return [
        Problem("definition", "unreachable" if "cannot be reached" in text else "invalid", f"定义有误：{text}")
        for text in error.problems
    ]


def publish_problems(session: Session, draft: ProgrammeDraft) -> tuple[list[Problem], Definition | None]:
    """Every reason the draft cannot be published now, and the definition it would publish."""
    problems: list[Problem] = []
    if draft.status != "open":
        problems.append(Problem("draft", "not_open", f"草稿 {draft.id} 的状态是 {draft.status}，不能发布"))
    newest_row, newest = current_programme(session, draft.code)
    if newest_row.id != draft.based_on_id:
        message = (
            f"草稿复制自 {draft.based_on.label}，其后已发布 {newest_row.label}：请从 {newest_row.label} 重新复制草稿"
        )
        problems.append(Problem("draft", "stale_base", message))
    raw = copy.deepcopy(draft.definition)
    raw["version"] = newest_row.version + 1
    try:
        definition = definitions.parse(raw, source=f"{draft.code}@{raw['version']} (draft {draft.id})")
    except DefinitionError as error:
        return problems + _definition_problems(error), None
    for state in dead_ends(definition):
        message = f"定义有误：从状态“{definition.state_label(state)}”（{state}）无法到达任何终结状态"
        problems.append(Problem("definition", "no_way_to_end", message))
    for name in registry.missing(definition):
        problems.append(Problem("definition", "unregistered", f"定义有误：{name} 未注册"))
    problems.extend(registry.definition_problems(definition))
    window = definition.window
    if window is not None and newest.window is not None and _overlap(window, newest.window):
        message = (
            f"本轮申报窗口 {_window_text(window)} 与 {newest.label} 的申报窗口 {_window_text(newest.window)} 重叠："
            "新一轮须另定窗口"
        )
        problems.append(Problem("opens", "overlaps_round", message))
    if draft.budget_amount is not None and "budget" not in registry.ROUND_HOOKS:
        problems.append(Problem("budget_amount", "no_budget_hook", "预算无法设定：资金阶段未加载（review.plugin）"))
    return problems, definition


def publish_draft(session: Session, actor: Actor, draft_id: int) -> ProgrammeVersion:
    """Publish the draft as the programme's next version (a new round), or refuse with every problem."""
    draft = _open_draft(session, actor, draft_id)
    problems, definition = publish_problems(session, draft)
    _refuse(problems)
    assert definition is not None
    changes = diff(draft)
    row, _created = publish(session, definition)
    if draft.budget_amount is not None and draft.budget_year is not None:
        settings = {"year": draft.budget_year, "amount": draft.budget_amount}
        registry.ROUND_HOOKS["budget"](session, actor, draft.code, settings)
    draft.status, draft.published_version_id, draft.updated_at = "published", row.id, utcnow()
    audit.append(
        session,
        actor=actor,
        outcome="round_published",
        application_id=None,
        payload={
            "programme": draft.code,
            "version": row.version,
            "based_on": draft.based_on.label,
            "draft": draft.id,
            "changes": [c.as_dict() for c in changes],
        },
        definition=row.label,
    )
    return row
