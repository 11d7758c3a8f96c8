"""The award rule's arithmetic (issue 13), to the fen: Σ eligible investment (万元 × 10,000) × rate, rounded to the
yuan, at most the cap. The seeds state no rate or cap: these rules are test rules, the shipped ones local settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from review.awards import AwardRule, compute, parse_amount, rule_of
from workflow import definitions

RULE = AwardRule(eligible=("a_wan", "b_wan"), rate=Decimal("0.3333"), cap=Decimal("500000"), rounding="down")


def test_the_sum_times_the_rate_rounds_down_to_the_yuan():
    """1.01 + 0.02 万元 = 10,300 yuan × 0.3333 = 3,432.99 → 3,432 rounded down; half-up gives 3,433."""
    found = compute(RULE, {"a_wan": "1.01", "b_wan": "0.02", "c_wan": "99"})
    assert (found.eligible, found.by_rate, found.amount) == (Decimal("10300.00"), Decimal(3432), Decimal(3432))
    half_up = AwardRule(RULE.eligible, RULE.rate, RULE.cap, "half_up")
    assert compute(half_up, {"a_wan": "1.01", "b_wan": "0.02"}).amount == Decimal(3433)
    assert "× 0.3333" in found.explain() and "3,432 元" in found.explain()


def test_the_cap_holds_at_the_yuan():
    """100 万元 × 0.5 = 500,000 yuan is the cap exactly; 100.01 万元 gives 500,050, capped, and says so."""
    at_cap = AwardRule(("a_wan",), Decimal("0.5"), Decimal("500000"), "down")
    assert (
        compute(at_cap, {"a_wan": "100.00"}).amount == Decimal("500000")
        and not compute(at_cap, {"a_wan": "100"}).capped
    )
    above = compute(at_cap, {"a_wan": "100.01"})
    assert (above.by_rate, above.amount, above.capped) == (Decimal("500050"), Decimal("500000"), True)
    assert "超过上限 500,000 元" in above.explain()


def test_an_empty_or_odd_category_counts_nothing():
    assert compute(RULE, {"a_wan": "", "b_wan": "abc"}).amount == Decimal(0)
    assert compute(RULE, {}).eligible == Decimal(0)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0", "not_positive"),
        ("-1", "not_positive"),
        ("NaN", "not_positive"),
        ("1.001", "too_precise"),
        ("x", "not_a_number"),
    ],
)
def test_an_amount_is_positive_money(raw, code):
    assert parse_amount(raw)[1].code == code  # type: ignore[union-attr]


def test_every_shipped_rule_parses_and_is_labelled_a_local_setting():
    """Each version with an [award] table names the rule in local_settings (award_rule), shown on pages and docs."""
    with_rules = [d for d in definitions.shipped() if d.raw.get("award") is not None]
    assert {d.code for d in with_rules} == {"emc-acceptance", "monitoring-fund"}
    for definition in with_rules:
        assert rule_of(definition) is not None
        assert "award_rule" in {s.key for s in definition.local_settings}, definition.label
        setting = next(s for s in definition.local_settings if s.key == "award_rule")
        assert "本地设置" in setting.zh and "local setting" in setting.en
