"""Budgets and the award's life: a proposal reserves, an approval commits, a send-back releases, a payment spends.

Each step locks the programme's budget row for the year (SELECT … FOR UPDATE) in its guards, before it reads what
is left and before the engine appends the audit event (whose chain has a lock of its own: one order, no deadlock);
the table's CHECK constraint refuses any row that would spend more than the budget, whatever races above it. The
budget year is the Shanghai year in which the award is proposed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from review.awards import compute, parse_amount, rule_of
from review.models import Award, Budget, Payment
from workflow import audit
from workflow.accounts import Actor
from workflow.db import utcnow
from workflow.errors import InvalidInput, Problem
from workflow.registry import Context, effect, guard
from workflow.workdays import today_in_shanghai

# Who reads the ledger: the finance desk keeps it; the administrator sets budgets; the auditor, the regulator and the
# commission's reviewers oversee it.
LEDGER_READERS = frozenset({"finance_officer", "admin", "auditor", "market_regulator", "municipal_reviewer"})

MAX_YUAN = Decimal(10) ** 12  # what the ledger's columns hold (14 digits, 2 after the point)


def budget_year() -> int:
    return today_in_shanghai(utcnow()).year


def locked_budget(session: Session, programme: str, year: int) -> Budget | None:
    """The budget row, locked until the transaction ends (PostgreSQL; SQLite serialises writers anyway)."""
    return session.scalars(
        select(Budget).where(Budget.programme == programme, Budget.year == year).with_for_update()
    ).one_or_none()


def available(budget: Budget) -> Decimal:
    return budget.amount - budget.reserved - budget.committed - budget.paid


def set_budget(session: Session, actor: Actor, programme: str, year: int, amount: Decimal) -> Budget:
    """Set a programme's budget for a year; never below what is already reserved, committed and paid."""
    problems = []
    if not (2000 <= year <= 2100):
        problems.append(Problem("year", "out_of_range", f"year must be between 2000 and 2100, not {year}"))
    if not amount.is_finite() or not (0 <= amount < MAX_YUAN) or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        message = f"amount must be yuan with at most 2 decimals, from 0 to under {MAX_YUAN:,}, not {amount}"
        problems.append(Problem("amount", "not_money", message))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    budget = locked_budget(session, programme, year)
    before = budget.amount if budget is not None else None
    if budget is None:
        budget = Budget(programme=programme, year=year, amount=amount, set_by=actor.username)
        session.add(budget)
    else:
        held = budget.reserved + budget.committed + budget.paid
        if amount < held:
            message = (
                f"{programme} {year} 年度预算不能低于已占用的 {held:,.2f} 元（预留 {budget.reserved:,.2f}，"
                f"已核定 {budget.committed:,.2f}，已拨付 {budget.paid:,.2f}）"
            )
            raise InvalidInput(message, [Problem("amount", "below_held", message)])
        budget.amount, budget.set_by = amount, actor.username
    session.flush()
    payload = {"programme": programme, "year": year, "amount": f"{amount:.2f}"}
    if before is not None:
        payload["before"] = f"{before:.2f}"
    audit.append(session, actor=actor, outcome="budget_set", application_id=None, payload=payload)
    return budget


@dataclass(frozen=True)
class LedgerLine:
    programme: str
    year: int
    amount: Decimal
    reserved: Decimal
    committed: Decimal
    paid: Decimal
    available: Decimal
    balances: bool  # the columns equal the awards behind them

    def as_dict(self) -> dict[str, Any]:
        money = ("amount", "reserved", "committed", "paid", "available")
        return {
            "programme": self.programme,
            "year": self.year,
            **{k: f"{getattr(self, k):.2f}" for k in money},
            "balances": self.balances,
        }


def ledger(session: Session, programme: str | None = None) -> list[LedgerLine]:
    """Each budget with what is reserved, committed and paid, checked against the awards and payments behind it."""
    query = select(Budget).order_by(Budget.programme, Budget.year)
    if programme:
        query = query.where(Budget.programme == programme)
    lines = []
    for budget in session.scalars(query):
        awards = session.scalars(select(Award).where(Award.budget_id == budget.id)).all()
        by_status: dict[str, Decimal] = {}
        for award in awards:
            by_status[award.status] = by_status.get(award.status, Decimal(0)) + award.amount
        paid = sum(
            session.scalars(select(Payment.amount).join(Award).where(Award.budget_id == budget.id)).all(), Decimal(0)
        )
        balances = (
            by_status.get("proposed", Decimal(0)) == budget.reserved
            and by_status.get("approved", Decimal(0)) == budget.committed
            and by_status.get("paid", Decimal(0)) == budget.paid == paid
        )
        lines.append(
            LedgerLine(
                budget.programme,
                budget.year,
                budget.amount,
                budget.reserved,
                budget.committed,
                budget.paid,
                available(budget),
                balances,
            )
        )
    return lines


def current_award(session: Session, application_id: int, status: str) -> Award | None:
    return session.scalars(
        select(Award)
        .where(Award.application_id == application_id, Award.status == status)
        .order_by(Award.id.desc())
        .limit(1)
    ).one_or_none()


@guard("award_within_rule")
def award_within_rule(ctx: Context) -> Iterator[Problem]:
    """The programme's award rule (a local setting) and the year's budget: never more than the rule computes, less
    only with a reason (the comment), and never more than the budget has left."""
    raw = ctx.payload.get("amount")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return  # the required-field check names it
    amount, problem = parse_amount(raw)
    if problem is not None or amount is None:
        yield from [problem] if problem is not None else []
        return
    rule = rule_of(ctx.definition)
    if rule is None:
        raise RuntimeError(f"{ctx.definition.label} uses award_within_rule but has no [award] table")
    computation = compute(rule, ctx.application.form or {})
    if amount > computation.amount:
        message = (
            f"拟定金额 {amount:,.2f} 元超过按规则核定的 {computation.amount:,.2f} 元（{computation.explain()}；"
            f"本地设置）：不得超过 (the rule gives at most {computation.amount:,.2f} yuan)"
        )
        yield Problem("amount", "above_rule", message)
        return
    if amount < computation.amount and not str(ctx.payload.get("comment") or "").strip():
        message = (
            f"拟定金额 {amount:,.2f} 元低于按规则核定的 {computation.amount:,.2f} 元：须在意见中写明理由"
            f"（less than the rule's {computation.amount:,.2f} yuan needs a reason in the comment）"
        )
        yield Problem("comment", "reason_required", message)
        return
    programme, year = ctx.definition.code, budget_year()
    budget = locked_budget(ctx.session, programme, year)
    if budget is None:
        message = (
            f"{ctx.definition.title.get('zh') or programme} 尚未设定 {year} 年度预算"
            f"（manage.py budget set {programme} {year} AMOUNT）"
        )
        yield Problem("amount", "no_budget", message)
    elif amount > available(budget):
        message = (
            f"拟定金额 {amount:,.2f} 元超过 {year} 年度预算余额 {available(budget):,.2f} 元"
            f"（预算 {budget.amount:,.2f}，预留 {budget.reserved:,.2f}，已核定 {budget.committed:,.2f}，"
            f"已拨付 {budget.paid:,.2f}）"
        )
        yield Problem("amount", "over_budget", message)


def _lock_budget_of(session: Session, award: Award) -> Budget:
    return session.scalars(select(Budget).where(Budget.id == award.budget_id).with_for_update()).one()


@guard("proposed_award_held")
def proposed_award_held(ctx: Context) -> Iterator[Problem]:
    """A proposal to decide on; its budget row is locked here, in the guards, so that every budget step takes the
    budget's lock before the audit chain's (the effects run after the event is appended): no deadlock."""
    award = current_award(ctx.session, ctx.application.id, "proposed")
    if award is None:
        yield Problem("award", "no_award", "no proposed award to decide on")
        return
    _lock_budget_of(ctx.session, award)


@effect("reserve_award")
def reserve_award(ctx: Context) -> None:
    """The proposal holds its amount in the year's budget, with the arithmetic that gave it."""
    amount, _ = parse_amount(ctx.payload["amount"])
    rule = rule_of(ctx.definition)
    assert amount is not None and rule is not None  # the guard ran
    budget = locked_budget(ctx.session, ctx.definition.code, budget_year())
    assert budget is not None
    budget.reserved += amount
    computation = compute(rule, ctx.application.form or {})
    ctx.session.add(
        Award(
            application_id=ctx.application.id,
            budget_id=budget.id,
            amount=amount,
            computed=computation.amount,
            basis={**computation.as_dict(), "explained": computation.explain(), "local_setting": True},
            reason=str(ctx.payload.get("comment") or "").strip() if amount < computation.amount else "",
            proposed_by_id=ctx.actor.id,
            proposed_seq=ctx.event_seq,
        )
    )
    ctx.session.flush()  # the CHECK constraint speaks now, inside the command


def _decide(ctx: Context, status: str) -> Award:
    award = current_award(ctx.session, ctx.application.id, "proposed")
    if award is None:
        raise RuntimeError(f"application {ctx.application.id} has no proposed award to {ctx.trigger}")
    budget = _lock_budget_of(ctx.session, award)  # held since the guard
    budget.reserved -= award.amount
    if status == "approved":
        budget.committed += award.amount
    award.status, award.decided_by_id, award.decided_seq = status, ctx.actor.id, ctx.event_seq
    ctx.session.flush()
    return award


@effect("commit_award")
def commit_award(ctx: Context) -> None:
    """The second officer's approval turns the reservation into a commitment."""
    _decide(ctx, "approved")


@effect("release_award")
def release_award(ctx: Context) -> None:
    """Sent back: the reservation is released; a new proposal reserves again."""
    _decide(ctx, "sent_back")


@guard("payment_matches_award")
def payment_matches_award(ctx: Context) -> Iterator[Problem]:
    """The payment is the approved award's amount exactly, on a value date not after today (Shanghai)."""
    award = current_award(ctx.session, ctx.application.id, "approved")
    if award is not None:
        _lock_budget_of(ctx.session, award)  # before the audit chain's lock, as every budget step
    raw = ctx.payload.get("amount")
    if raw is not None and str(raw).strip():
        amount, problem = parse_amount(raw)
        if problem is not None:
            yield problem
        elif award is not None and amount != award.amount:
            message = f"拨付金额 {amount:,.2f} 元须等于核定金额 {award.amount:,.2f} 元"
            yield Problem("amount", "not_the_award", message)
    if award is None:
        yield Problem("amount", "no_award", "no approved award to pay")
    value = ctx.payload.get("value_date")
    if value is not None and str(value).strip():
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            yield Problem("value_date", "not_a_date", f"value_date must be a date (YYYY-MM-DD), not '{value}'")
        else:
            today = today_in_shanghai(utcnow())
            if day > today:
                message = f"起息日 {day} 晚于今天 {today}：登记的是已完成的拨付"
                yield Problem("value_date", "in_future", message)


@effect("record_payment_row")
def record_payment_row(ctx: Context) -> None:
    """One payment per application (a unique key): the committed amount becomes paid."""
    award = current_award(ctx.session, ctx.application.id, "approved")
    assert award is not None  # the guard ran
    budget = _lock_budget_of(ctx.session, award)  # held since the guard
    budget.committed -= award.amount
    budget.paid += award.amount
    award.status = "paid"
    ctx.session.add(
        Payment(
            application_id=ctx.application.id,
            award_id=award.id,
            amount=award.amount,
            value_date=dt.date.fromisoformat(str(ctx.payload["value_date"])),
            bank_reference=str(ctx.payload["payment_reference"]).strip(),
            recorded_by_id=ctx.actor.id,
            event_seq=ctx.event_seq,
        )
    )
    ctx.session.flush()
