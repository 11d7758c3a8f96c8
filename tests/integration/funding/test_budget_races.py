"""Racing officers on PostgreSQL with real commits (issue 13): no sequence of concurrent requests overspends a
budget or pays twice. The budget row is locked by each step, and its CHECK constraint is the last word."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from review import budgets
from review.models import Budget, Payment
from tests import factories
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.engine import FireResult, fire
from workflow.errors import GuardFailed, InvalidInput, NotAllowedNow, StaleVersion, WorkflowError

pytestmark = pytest.mark.postgres

RACERS = 6


def _race(calls) -> list[object]:  # type: ignore[no-untyped-def]
    start = threading.Barrier(len(calls))

    def run(call) -> object:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            return call()
        except WorkflowError as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_proposals_reserve_no_more_than_the_budget(cast, committed_db):
    """Six applications at the funding review, a budget for two awards of 351,000 (and change): six officers'
    proposals at once; two reserve, four are refused over_budget, and the ledger balances."""
    apps = [factories.new_application(cast) for _ in range(RACERS)]
    for app_id in apps:
        factories.drive_to(cast, app_id, "funding_review")
    with db.transaction() as session:
        budgets.set_budget(session, SYSTEM, "emc-acceptance", budgets.budget_year(), Decimal("1000000.00"))

    def propose(app_id: int):  # type: ignore[no-untyped-def]
        return lambda: fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00"})

    outcomes = _race([propose(app_id) for app_id in apps])
    wins = [o for o in outcomes if isinstance(o, FireResult)]
    refused = [o for o in outcomes if isinstance(o, GuardFailed)]
    assert len(wins) == 2 and len(refused) == RACERS - 2, outcomes
    assert all([p.code for p in e.problems] == ["over_budget"] for e in refused)
    with db.transaction() as session:
        budget = session.scalars(select(Budget).where(Budget.programme == "emc-acceptance")).one()
        assert budget.reserved == Decimal("702000.00") and budgets.available(budget) == Decimal("298000.00")
        assert all(line.balances for line in budgets.ledger(session))


def test_racing_approvals_and_a_budget_cut_never_overspend(cast, committed_db):
    """Two proposals approved by the second officer while an administrator cuts the budget twice: to a fen below
    what is held (refused, whichever goes first) and to exactly that (fits); commitments never exceed the budget."""
    apps = [factories.new_application(cast) for _ in range(2)]
    for app_id in apps:
        factories.drive_to(cast, app_id, "funding_review")
        fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00"})

    def cut(amount: str):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with db.transaction() as session:
                return budgets.set_budget(session, SYSTEM, "emc-acceptance", budgets.budget_year(), Decimal(amount))

        return run

    calls = [lambda a=app_id: fire(a, "approve_award", cast.finance_officer2) for app_id in apps]
    outcomes = _race([*calls, cut("701999.99"), cut("702000.00")])
    assert all(isinstance(o, FireResult) for o in outcomes[:2]), outcomes
    assert isinstance(outcomes[2], InvalidInput) and outcomes[2].problems[0].code == "below_held"
    assert isinstance(outcomes[3], Budget)
    with db.transaction() as session:
        budget = session.scalars(select(Budget).where(Budget.programme == "emc-acceptance")).one()
        assert budget.committed == Decimal("702000.00") and budget.reserved == 0
        assert budget.reserved + budget.committed + budget.paid <= budget.amount
        assert all(line.balances for line in budgets.ledger(session))


def test_a_payment_sent_six_times_at_once_is_recorded_once(cast, committed_db):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "award_approved")
    payload = factories.payload_for("record_payment", app_id)
    outcomes = _race([lambda: fire(app_id, "record_payment", cast.finance_officer, payload)] * RACERS)
    assert sum(isinstance(o, FireResult) for o in outcomes) == 1
    assert all(isinstance(o, (FireResult, NotAllowedNow, StaleVersion)) for o in outcomes), outcomes
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Payment).where(Payment.application_id == app_id)) == 1
        budget = session.scalars(select(Budget).where(Budget.programme == "emc-acceptance")).one()
        assert budget.paid == Decimal(factories.rule_award(app_id)) and budget.committed == 0
