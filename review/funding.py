"""Version 1–2's funding check: the proposed award is money (yuan, at most two decimals, positive), at most the
project's declared investment, and at most the configured ceiling (a local setting). From version 3 the
programme's award rule and budget decide (`review.awards`, `review.budgets`)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from review.awards import parse_amount
from workflow.errors import Problem
from workflow.registry import Context, guard

# The form field that declares the project's investment, in 万元, per programme's form (emc; monitoring fund).
INVESTMENT_FIELDS = ("total_investment_wan", "retrofit_investment_wan")
WAN = Decimal(10_000)
_ceiling = Decimal(10_000_000)


def configure(ceiling_yuan: str | Decimal) -> None:
    """The largest award anyone may propose (AWARD_CEILING_YUAN)."""
    global _ceiling
    value = Decimal(str(ceiling_yuan))
    if not value.is_finite() or value <= 0:
        raise ValueError(f"AWARD_CEILING_YUAN must be a positive number of yuan, not {ceiling_yuan!r}")
    _ceiling = value


def declared_investment(form: dict[str, object]) -> Decimal | None:
    """The project's investment in yuan, as the applicant declared it; None if the form has none."""
    for key in INVESTMENT_FIELDS:
        try:
            value = Decimal(str(form.get(key))) * WAN
        except ArithmeticError:  # not a number, or one too large to multiply (the form refuses both on submission)
            continue
        if value.is_finite() and value > 0:
            return value
    return None


@guard("award_amount_valid")
def award_amount_valid(ctx: Context) -> Iterator[Problem]:
    raw = ctx.payload.get("amount")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return  # the required-field check names it
    amount, problem = parse_amount(raw)
    if problem is not None or amount is None:
        yield from [problem] if problem is not None else []
        return
    if amount > _ceiling:
        yield Problem("amount", "above_ceiling", f"amount {amount:,.2f} yuan is above the ceiling of {_ceiling:,.2f}")
        return
    investment = declared_investment(ctx.application.form or {})
    if investment is None:
        yield Problem("amount", "no_investment", "the application declares no investment to measure an award against")
    elif amount > investment:
        yield Problem(
            "amount",
            "above_investment",
            f"amount {amount:,.2f} yuan is more than the project's declared investment of {investment:,.2f} yuan",
        )
