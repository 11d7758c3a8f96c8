"""The demo's vocabulary: the steps a scenario is written in, the district's record, the demo award."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from forms.samples import sample_form
from review.prereview import CHECKS
from workflow.errors import WorkflowError


@dataclass(frozen=True)
class Fire:
    actor: str
    trigger: str
    payload: dict[str, Any] = field(default_factory=dict)


# Who the draw seats is chance: steps name the panel's leader (the first drawn) and its other member.
LEADER, MEMBER = "panel:leader", "panel:member"


@dataclass(frozen=True)
class DrawPanel:
    """The agency coordinator draws the site-verification panel from the pool (the first drawn leads), each member
    declares no conflict of interest (only then does the file open to them), and the visit is scheduled."""

    size: int = 2


@dataclass(frozen=True)
class Score:
    """A panel member scores every criterion of their own checklist sheet, then signs and submits it."""

    expert: str  # LEADER or MEMBER
    nonconform: tuple[tuple[str, str], ...] = ()  # (criterion, note) found wanting; every other criterion conforms


@dataclass(frozen=True)
class Refuse:
    """A wrong move that the engine must refuse with `error`; the refusal is recorded in the audit chain."""

    actor: str
    trigger: str
    error: type[WorkflowError]
    why: str
    payload: dict[str, Any] = field(default_factory=dict)
    stale: bool = False  # send the version before the last change as expected_version


Step = Fire | DrawPanel | Score | Refuse


@dataclass(frozen=True)
class Scenario:
    title: str
    programme: str
    kind: str
    applicant: str
    project_name: str
    steps: tuple[Step, ...]
    path: str  # every state the application passes through, in order, separated by spaces
    dissent: tuple[str, ...] = ()  # criteria the panel's members disagree on, kept in the conclusion
    waits_for: str = ""  # a scenario left waiting at a desk: the demo accounts that find it there

    @property
    def states(self) -> list[str]:
        return self.path.split()


FUNDED = "funding_review award_proposed award_approved paid archived"  # the common funding, payment, archive tail


# The district reviewer's record: each check of seed 002 §五 done and found in order.
PREREVIEW = {
    "checks": dict.fromkeys(CHECKS, "ok"),
    "opinion": "申请表真实完整，法人资格、运营情况及经济状况正常，同意上报",
}

# The demo's award: 20 % of the investment the form declares, in yuan. A demo figure only: the seeds state no rate;
# the funding issue brings the award rules as programme data (a local setting), which these figures will follow.
DEMO_AWARD_RATE = Decimal("0.20")


def demo_award(programme: str, kind: str) -> tuple[str, str]:
    """(amount in yuan, the proposal's words): the rate applied to the sample form's investment (万元)."""
    form = sample_form(programme, kind)
    key, basis = (
        ("total_investment_wan", "项目总投资")
        if programme == "emc-acceptance"
        else ("retrofit_investment_wan", "改造投资")
    )
    wan = Decimal(str(form[key]))
    amount = (wan * 10000 * DEMO_AWARD_RATE).quantize(Decimal("0.01"))
    return f"{amount}", f"按{basis} {wan} 万元的{DEMO_AWARD_RATE * 100:.0f}%拟定：{amount:,} 元（演示费率）"


# The panel visits, each member scores and signs their own sheet, and only then may the leader conclude.
PANEL = (DrawPanel(), Score(LEADER), Score(MEMBER))


def award_tail() -> tuple[Step, ...]:
    amount, why = demo_award("emc-acceptance", "enterprise")
    return (
        Fire("finance1", "propose_award", {"amount": amount, "comment": why}),
        Fire("finance2", "approve_award", {"comment": "复核无误"}),
        Fire("finance1", "record_payment", {"payment_reference": "SH-EMC-2026-0001"}),
    )
