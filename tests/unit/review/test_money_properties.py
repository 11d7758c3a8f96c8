"""Properties of the money arithmetic (hypothesis): Decimal throughout, to the fen; the award rule's cap and rounding;
the budget's columns always the sum of the awards behind them, never negative; a payment batch's total its lines'.

The shipped rules (local settings; the seeds state no rate or cap): emc-acceptance@3 20 % of 工程建设 + 设备 + 软件,
at most 3,000,000 yuan — 1,500 万元 reaches the cap exactly; monitoring-fund@3 30 % of 改造投资, at most 500,000 yuan
— 166.66 万元 gives 499,980, 166.67 万元 is capped."""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from review import budgets
from review.awards import FEN, WAN, AwardRule, compute, parse_amount, rule_of
from review.funding import declared_investment
from review.payments import PaymentLine, to_xlsx
from tests import factories
from workflow import definitions
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed, InvalidInput, Problem

FAST = settings(max_examples=60, deadline=None)
SHIPPED = {d.code: rule_of(d) for d in definitions.shipped() if d.raw.get("award") is not None}
EMC, MONITORING = SHIPPED["emc-acceptance"], SHIPPED["monitoring-fund"]

# 万元 as a form keeps them (15 digits before the point at most, two after), as strings, numbers, or junk.
_wan = st.decimals(min_value=0, max_value=Decimal(10) ** 15 - FEN, places=2, allow_nan=False, allow_infinity=False)
_junk = st.sampled_from(["", "abc", "-5", "NaN", "sNaN", "Infinity", "1e999999", "1,000", None, True, [], {}])
_form_values = st.one_of(_wan.map(str), _wan.map(float), _junk)
_amounts_wan = _wan.map(str) | _wan.map(float)


def _rules() -> st.SearchStrategy[AwardRule]:
    """The shipped rules, and any other a programme version could state (rate in (0, 1], cap > 0, either rounding)."""
    made = st.builds(
        AwardRule,
        st.just(("a_wan", "b_wan", "c_wan")),
        st.decimals(min_value=Decimal("0.0001"), max_value=1, places=4),
        st.decimals(min_value=1, max_value=Decimal(10) ** 9, places=0),
        st.sampled_from(["down", "half_up"]),
    )
    return st.one_of(st.sampled_from([EMC, MONITORING]), made)


@st.composite
def rules_and_forms(draw: st.DrawFn) -> tuple[AwardRule, dict[str, Any]]:
    """A rule and a form: its eligible categories mostly filled with 万元, some junk, and fields it ignores."""
    rule = draw(_rules())
    form = {key: draw(_amounts_wan | _junk) for key in rule.eligible if draw(st.integers(0, 4))}
    form.update(draw(st.dictionaries(st.sampled_from(["investment_other_wan", "total_investment_wan"]), _form_values)))
    return rule, form


@FAST
@given(rules_and_forms())
@example((EMC, {"investment_construction_wan": "1500"}))  # exactly the cap
@example((EMC, {"investment_construction_wan": "1000", "investment_software_wan": "500.01"}))  # a fen of 万元 above
@example((MONITORING, {"retrofit_investment_wan": "166.66"}))
@example((MONITORING, {"retrofit_investment_wan": "166.67"}))
def test_the_award_is_the_parts_times_the_rate_rounded_to_the_yuan_and_at_most_the_cap(case):
    rule, form = case
    found = compute(rule, form)
    assert all(isinstance(v, Decimal) for v in (found.eligible, found.by_rate, found.amount, *found.parts.values()))
    assert all(v >= 0 for v in found.parts.values())
    assert found.eligible == sum(found.parts.values(), Decimal(0))  # the parts make the whole
    exact = found.eligible * rule.rate
    assert found.by_rate == found.by_rate.to_integral_value()  # to the yuan
    if rule.rounding == "down":
        assert found.by_rate <= exact < found.by_rate + 1
    else:
        assert found.by_rate == exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert 0 <= found.amount <= rule.cap and found.amount == min(found.by_rate, rule.cap)
    assert found.capped == (found.by_rate > rule.cap)
    shown = found.as_dict()  # what the proposal keeps: to the fen, and read back as the same amounts
    assert Decimal(shown["amount"]) == found.amount and Decimal(shown["eligible"]) == found.eligible
    assert f"{Decimal(shown['amount']):.2f}" == shown["amount"]


def test_the_shipped_caps_at_their_boundaries():
    assert compute(EMC, {"investment_construction_wan": "1500"}).amount == Decimal(3_000_000)
    assert not compute(EMC, {"investment_construction_wan": "1500"}).capped
    assert compute(EMC, {"investment_construction_wan": "1500.01"}).capped
    assert compute(MONITORING, {"retrofit_investment_wan": "166.66"}).amount == Decimal(499_980)
    assert compute(MONITORING, {"retrofit_investment_wan": "166.67"}).amount == Decimal(500_000)


_raw_amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=12),
    _junk,
)


@FAST
@given(_raw_amounts)
@example("0.001")
@example("1e-2")
@example("-0.00")
def test_an_amount_is_positive_yuan_to_the_fen_or_a_named_problem(raw):
    amount, problem = parse_amount(raw)
    if problem is not None:
        assert amount is None and isinstance(problem, Problem)
        assert problem.code in ("not_a_number", "not_positive", "too_precise")
        return
    assert isinstance(amount, Decimal) and amount.is_finite() and amount > 0
    assert amount.as_tuple().exponent >= -2  # type: ignore[operator]  # at most two decimals
    assert parse_amount(f"{amount:.2f}") == (amount, None)  # shown to the fen, it reads back the same


@FAST
@given(st.dictionaries(st.sampled_from(["total_investment_wan", "retrofit_investment_wan", "x"]), _form_values))
def test_the_declared_investment_is_positive_yuan_or_none(form):
    found = declared_investment(form)
    assert found is None or (isinstance(found, Decimal) and found.is_finite() and found > 0)
    if found is not None:
        assert f"{found / WAN:f}" in {
            f"{Decimal(str(v)):f}" for v in form.values() if isinstance(v, float) or _is_number(v)
        }


def _is_number(value: Any) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except ArithmeticError:
        return False


# Text as the app keeps it: the input guard refuses control characters and lone surrogates at the door.
# Control characters included: an .xlsx cannot hold most of them, and the export must not fail on them.
_kept_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
_lines = st.lists(
    st.builds(
        PaymentLine,
        st.integers(1, 10**6),
        _kept_text,
        st.just("91310000MA1FL0000X"),
        _kept_text,
        st.decimals(min_value=FEN, max_value=Decimal(10) ** 9, places=2),
        st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
        _kept_text,
    ),
    max_size=6,
)


@settings(max_examples=15, deadline=None)
@given(_lines)
def test_a_payment_batch_totals_its_lines_exactly(lines):
    out = io.BytesIO()
    total = to_xlsx(lines, dt.date(2020, 1, 1), dt.date(2030, 12, 31), "2026-12-06 10:00", out)
    assert isinstance(total, Decimal) and total == sum((line.amount for line in lines), Decimal(0))
    rows = list(load_workbook(io.BytesIO(out.getvalue()), read_only=True).active.iter_rows(values_only=True))
    amounts = [Decimal(str(row[5])) for row in rows[2:-1]]
    assert amounts == [line.amount for line in lines]  # each line to the fen
    assert Decimal(str(rows[-1][5])) == total


# --- the budget's columns against the awards behind them (through fire(), as the desk does it) -----------------


def _budget_line() -> budgets.LedgerLine:
    with db.transaction() as session:
        [line] = [x for x in budgets.ledger(session, "emc-acceptance") if x.year == budgets.budget_year()]
        return line


def test_proposals_and_send_backs_keep_the_budget_balanced_and_never_negative(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "funding_review")
    rule_amount = factories.rule_award(app_id)  # 351,000.00 for the sample form

    @settings(max_examples=20, deadline=None)
    @given(
        budget=st.decimals(min_value=0, max_value=Decimal("1000000"), places=2),
        proposals=st.lists(st.decimals(min_value=FEN, max_value=Decimal(rule_amount) + 1, places=2), max_size=3),
    )
    @example(budget=Decimal("351000.00"), proposals=[Decimal("351000.00")])  # the budget exactly spent
    @example(budget=Decimal("350999.99"), proposals=[Decimal("351000.00")])  # a fen short
    def steps(budget: Decimal, proposals: list[Decimal]) -> None:
        with db.transaction() as session:
            budgets.set_budget(session, SYSTEM, "emc-acceptance", budgets.budget_year(), budget)
        for amount in proposals:
            before = _budget_line()
            payload: dict[str, Any] = {"amount": f"{amount:.2f}", "comment": "按规则核减"}
            try:
                fire(app_id, "propose_award", cast.finance_officer, payload)
            except GuardFailed as refused:
                codes = {p.code for p in refused.problems}
                assert codes == ({"above_rule"} if amount > Decimal(rule_amount) else {"over_budget"}), codes
                assert amount > min(Decimal(rule_amount), before.available)
                continue
            assert amount <= before.available
            line = _budget_line()
            assert (line.reserved, line.available) == (before.reserved + amount, before.available - amount)
            assert line.balances and min(line.reserved, line.committed, line.paid, line.available) >= 0
            fire(app_id, "send_back", cast.finance_officer2, {"comment": "复核"})
            line = _budget_line()
            assert line.reserved == before.reserved and line.available == before.available and line.balances

    steps()


@FAST
@given(st.decimals(allow_nan=True, allow_infinity=True) | st.decimals(min_value=-1, max_value=10**13, places=3))
def test_a_budget_is_set_to_the_fen_or_refused(amount):
    try:
        with db.transaction() as session:
            found = budgets.set_budget(session, SYSTEM, "monitoring-fund", 2031, amount)
            assert found.amount == amount
    except InvalidInput as refused:
        assert [p.code for p in refused.problems] == ["not_money"]
        written_places = -amount.as_tuple().exponent if amount.is_finite() else 0  # type: ignore[operator]
        assert not amount.is_finite() or amount < 0 or amount >= budgets.MAX_YUAN or written_places > 2
        return
    with db.transaction() as session:
        [line] = [x for x in budgets.ledger(session, "monitoring-fund") if x.year == 2031]
    assert line.amount == amount and line.available == amount and line.as_dict()["amount"] == f"{amount:.2f}"
