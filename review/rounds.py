"""What the review stage checks and sets when an administrator publishes a round (workflow.drafts): the checklist
versions the definition names exist, its award rule holds, its attachment rules parse; the year's budget is set."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from applications.attachments import AttachmentRulesError, parse_rules
from review import budgets, checklists
from review.awards import rule_of
from workflow.accounts import Actor
from workflow.definitions import Definition
from workflow.errors import Problem
from workflow.registry import definition_check, round_hook


@definition_check
def round_definition_problems(definition: Definition) -> Iterator[Problem]:
    for kind, ref in definition.checklists.items():
        try:
            checklists.load(ref)
        except (KeyError, ValueError):
            yield Problem(f"checklist_{kind}", "unknown_checklist", f"没有核查表 {ref}")
    try:
        rule_of(definition)
    except (ValueError, KeyError, ArithmeticError) as error:
        yield Problem("award_rate", "invalid_award_rule", f"金额规则有误：{error}")
    try:
        parse_rules(definition.raw.get("attachments"), definition.code, definition.label)
    except AttachmentRulesError as error:
        yield Problem("special_audit_from_wan", "invalid_attachments", f"附件要求有误：{error}")


@round_hook("budget")
def set_round_budget(session: Session, actor: Actor, programme: str, settings: dict[str, Any]) -> None:
    """The round's budget for its year, through the ledger's own verb (never below what is already held)."""
    budgets.set_budget(session, actor, programme, int(settings["year"]), Decimal(str(settings["amount"])))
