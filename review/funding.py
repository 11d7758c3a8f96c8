"""Funding decision: the proposed award amount must be money (yuan, at most two decimals, positive)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from workflow.errors import Problem
from workflow.registry import Context, guard


@guard("award_amount_valid")
def award_amount_valid(ctx: Context) -> Iterator[Problem]:
    raw = ctx.payload.get("amount")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return  # the required-field check names it
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        yield Problem("amount", "not_a_number", f"amount must be a number of yuan, not '{raw}'")
        return
    if not amount.is_finite() or amount <= 0:
        yield Problem("amount", "not_positive", f"amount must be more than 0 yuan, not {raw}")
    elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
        yield Problem("amount", "too_precise", f"amount has at most 2 decimals (fen), not {raw}")
