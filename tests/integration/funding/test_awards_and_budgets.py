"""Awards within the programme's rule and the year's budget, four eyes, one payment (issue 13).

The sample emc form declares 工程建设 40.00, 计量采集上传设备 90.00, 软件 45.50 万元 (其他 4.50 does not count): under
the shipped rule (20 %, a local setting) that is 351,000 yuan. The monitoring fund's sample: 改造投资 36.80 万元 × 30 %
= 110,400 yuan.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from review import budgets
from review.models import Award, Budget, Payment
from tests import factories
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed, InvalidInput, NotAllowedNow


def _at_funding(cast: factories.Cast, programme: str = "emc-acceptance") -> int:
    app_id = factories.new_application(cast, programme)
    factories.drive_to(cast, app_id, "funding_review")
    return app_id


def _codes(app_id: int, actor, trigger: str, payload: dict) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, trigger, actor, payload)
    return [p.code for p in refused.value.problems]


def _budget(programme: str = "emc-acceptance") -> Budget:
    with db.transaction() as session:
        found = session.scalars(
            select(Budget).where(Budget.programme == programme, Budget.year == budgets.budget_year())
        ).one()
        session.expunge(found)
        return found


def _set_budget(amount: str, programme: str = "emc-acceptance") -> None:
    with db.transaction() as session:
        budgets.set_budget(session, SYSTEM, programme, budgets.budget_year(), Decimal(amount))


@pytest.mark.parametrize(("programme", "computed"), [("emc-acceptance", "351000.00"), ("monitoring-fund", "110400.00")])
def test_the_rule_amount_passes_and_a_fen_more_is_refused(cast, programme, computed):
    app_id = _at_funding(cast, programme)
    above = f"{Decimal(computed) + Decimal('0.01')}"
    assert _codes(app_id, cast.finance_officer, "propose_award", {"amount": above}) == ["above_rule"]
    assert fire(app_id, "propose_award", cast.finance_officer, {"amount": computed}).state == "award_proposed"
    with db.transaction() as session:
        award = session.scalars(select(Award).where(Award.application_id == app_id)).one()
        assert (award.amount, award.computed, award.status) == (Decimal(computed), Decimal(computed), "proposed")
        assert award.basis["amount"] == computed and award.basis["local_setting"] is True


def test_less_than_the_rule_needs_a_reason_which_is_kept(cast):
    app_id = _at_funding(cast)
    assert _codes(app_id, cast.finance_officer, "propose_award", {"amount": "350999.99"}) == ["reason_required"]
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "350999.99", "comment": "软件投资含维保，核减"})
    with db.transaction() as session:
        award = session.scalars(select(Award).where(Award.application_id == app_id)).one()
        assert award.reason == "软件投资含维保，核减"


def test_propose_reserves_approve_commits_send_back_releases_pay_spends(cast):
    app_id = _at_funding(cast)
    _set_budget("1000000.00")
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00"})
    b = _budget()
    assert (b.reserved, b.committed, b.paid) == (Decimal("351000.00"), 0, 0)
    fire(app_id, "send_back", cast.finance_officer2, {"comment": "请复核软件投资"})
    assert _budget().reserved == 0
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "300000.00", "comment": "软件投资核减"})
    fire(app_id, "approve_award", cast.finance_officer2)
    b = _budget()
    assert (b.reserved, b.committed, b.paid) == (0, Decimal("300000.00"), 0)
    pay = {
        "payment_reference": "SH-2026-1",
        "amount": "300000.00",
        "value_date": factories.shanghai_today().isoformat(),
    }
    fire(app_id, "record_payment", cast.finance_officer, pay)
    b = _budget()
    assert (b.reserved, b.committed, b.paid, budgets.available(b)) == (0, 0, Decimal("300000.00"), Decimal("700000.00"))
    with db.transaction() as session:
        [line] = [x for x in budgets.ledger(session, "emc-acceptance") if x.year == budgets.budget_year()]
        assert line.balances
        statuses = session.scalars(select(Award.status).where(Award.application_id == app_id).order_by(Award.id)).all()
        assert statuses == ["sent_back", "paid"]


def test_a_proposal_beyond_what_the_budget_has_left_is_refused(cast):
    first, second = _at_funding(cast), _at_funding(cast)
    _set_budget("700000.00")  # one 351,000 fits; a second would make 702,000
    fire(first, "propose_award", cast.finance_officer, {"amount": "351000.00"})
    assert _codes(second, cast.finance_officer, "propose_award", {"amount": "351000.00"}) == ["over_budget"]
    assert fire(second, "propose_award", cast.finance_officer, {"amount": "349000.00", "comment": "预算余额"}).state
    assert budgets.available(_budget()) == 0


def test_no_budget_for_the_year_is_named(cast):
    app_id = _at_funding(cast)
    with db.transaction() as session:
        session.execute(update(Budget).values(programme="elsewhere"))  # as if none were set
    [problem] = _codes(app_id, cast.finance_officer, "propose_award", {"amount": "351000.00"})
    assert problem == "no_budget"


def test_the_database_itself_refuses_a_row_that_spends_more_than_the_budget(cast):
    """Whatever a racing path might do above it, the CHECK constraint holds (bulk updates skip the ORM)."""
    _at_funding(cast)
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(update(Budget).values(reserved=Budget.amount + 1))


def test_a_budget_is_never_set_below_what_it_holds(cast):
    app_id = _at_funding(cast)
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00"})
    with pytest.raises(InvalidInput) as refused:
        _set_budget("350999.99")
    assert refused.value.problems[0].code == "below_held"
    _set_budget("351000.00")  # exactly what it holds is fine


def test_the_payment_is_the_award_exactly_once_on_a_past_value_date(cast):
    app_id = _at_funding(cast)
    fire(app_id, "propose_award", cast.finance_officer, {"amount": "351000.00"})
    fire(app_id, "approve_award", cast.finance_officer2)
    today = factories.shanghai_today()
    good = {"payment_reference": "SH-2026-2", "amount": "351000.00", "value_date": today.isoformat()}
    assert _codes(app_id, cast.finance_officer, "record_payment", {**good, "amount": "350999.99"}) == ["not_the_award"]
    tomorrow = today.fromordinal(today.toordinal() + 1).isoformat()
    assert _codes(app_id, cast.finance_officer, "record_payment", {**good, "value_date": tomorrow}) == ["in_future"]
    assert fire(app_id, "record_payment", cast.finance_officer, good).state == "paid"
    with pytest.raises(NotAllowedNow):
        fire(app_id, "record_payment", cast.finance_officer, good)
    with db.transaction() as session:
        [payment] = session.scalars(select(Payment).where(Payment.application_id == app_id)).all()
        assert (payment.amount, payment.value_date, payment.bank_reference) == (
            Decimal("351000.00"),
            today,
            "SH-2026-2",
        )
