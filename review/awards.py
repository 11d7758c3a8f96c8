"""The award rule (programme data, a local setting: the seeds state no rate or cap) and the award's arithmetic.

A programme version's `[award]` table names the form's investment categories that count, the rate, the cap per
application and the rounding. The computed award is Σ eligible investment (万元 × 10,000) × rate, rounded to the
yuan, at most the cap; an officer may propose less with a reason, never more.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from workflow.definitions import Definition
from workflow.errors import Problem

WAN = Decimal(10_000)
YUAN = Decimal(1)
FEN = Decimal("0.01")
ROUNDINGS = {"down": ROUND_DOWN, "half_up": ROUND_HALF_UP}


@dataclass(frozen=True)
class AwardRule:
    eligible: tuple[str, ...]  # form fields (万元) whose sum the rate applies to
    rate: Decimal
    cap: Decimal  # yuan, per application
    rounding: str  # to the yuan: "down" or "half_up"

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": list(self.eligible),
            "rate": str(self.rate),
            "cap": str(self.cap),
            "rounding": self.rounding,
        }


@dataclass(frozen=True)
class Computation:
    """How the rule gives an amount for an application's form: each category, the sum, the rate, the cap."""

    rule: AwardRule
    parts: dict[str, Decimal]  # field → yuan
    eligible: Decimal  # yuan
    by_rate: Decimal  # eligible × rate, rounded to the yuan
    amount: Decimal  # by_rate, at most the cap

    @property
    def capped(self) -> bool:
        return self.by_rate > self.rule.cap

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.as_dict(),
            "parts": {k: f"{v:.2f}" for k, v in self.parts.items()},
            "eligible": f"{self.eligible:.2f}",
            "by_rate": f"{self.by_rate:.2f}",
            "capped": self.capped,
            "amount": f"{self.amount:.2f}",
        }

    def explain(self) -> str:
        """The arithmetic in one line, as the proposal shows it."""
        terms = " + ".join(f"{v / WAN:f} 万元" for v in self.parts.values()) or "0"
        line = f"({terms}) × 10,000 × {self.rule.rate} = {self.eligible * self.rule.rate:,.2f} → {self.by_rate:,.0f} 元"
        if self.capped:
            line += f"，超过上限 {self.rule.cap:,.0f} 元，按上限"
        return line


def rule_of(definition: Definition) -> AwardRule | None:
    """The version's award rule, or None for a version that has none (its awards are checked the older way)."""
    raw = definition.raw.get("award")
    if raw is None:
        return None
    rule = AwardRule(
        eligible=tuple(str(f) for f in raw.get("eligible", ())),
        rate=Decimal(str(raw["rate"])),
        cap=Decimal(str(raw["cap_yuan"])),
        rounding=str(raw.get("rounding", "down")),
    )
    problems = []
    if not rule.eligible:
        problems.append("award.eligible names no investment category")
    if not (0 < rule.rate <= 1):
        problems.append(f"award.rate must be more than 0 and at most 1, not {rule.rate}")
    if rule.cap <= 0:
        problems.append(f"award.cap_yuan must be more than 0, not {rule.cap}")
    if rule.rounding not in ROUNDINGS:
        problems.append(f"award.rounding must be one of {', '.join(ROUNDINGS)}, not {rule.rounding}")
    if problems:
        raise ValueError(f"{definition.label}: " + "; ".join(problems))
    return rule


def compute(rule: AwardRule, form: dict[str, Any]) -> Computation:
    """The award the rule gives for the form's declared investment (a category left empty counts 0)."""
    parts: dict[str, Decimal] = {}
    for key in rule.eligible:
        try:
            value = Decimal(str(form.get(key) or 0)) * WAN
        except (InvalidOperation, ArithmeticError):
            value = Decimal(0)
        parts[key] = value if value.is_finite() and value > 0 else Decimal(0)
    eligible = sum(parts.values(), Decimal(0))
    by_rate = (eligible * rule.rate).quantize(YUAN, rounding=ROUNDINGS[rule.rounding])
    return Computation(rule, parts, eligible, by_rate, min(by_rate, rule.cap))


def parse_amount(raw: Any, field: str = "amount") -> tuple[Decimal | None, Problem | None]:
    """Money in yuan: a number, more than 0, at most two decimals (fen)."""
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        return None, Problem(field, "not_a_number", f"{field} must be a number of yuan, not '{raw}'")
    if not amount.is_finite() or amount <= 0:
        return None, Problem(field, "not_positive", f"{field} must be more than 0 yuan, not {raw}")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return None, Problem(field, "too_precise", f"{field} has at most 2 decimals (fen), not {raw}")
    return amount, None
