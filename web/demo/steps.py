"""The demo's vocabulary: the steps a scenario is written in, the district's record, the demo award."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forms.samples import sample_form
from review import awards
from review.prereview import CHECKS
from workflow import definitions
from workflow.db import utcnow
from workflow.errors import WorkflowError
from workflow.workdays import today_in_shanghai


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


def demo_award(programme: str, kind: str) -> tuple[str, str]:
    """(amount in yuan, the proposal's words): what the programme's award rule (its newest shipped version's
    [award], a local setting) computes for the sample form, with the arithmetic."""
    definition = max((d for d in definitions.shipped() if d.code == programme), key=lambda d: d.version)
    rule = awards.rule_of(definition)
    assert rule is not None, f"{definition.label} has no award rule"
    computation = awards.compute(rule, sample_form(programme, kind))
    return f"{computation.amount:.2f}", f"按{definition.label}的支持规则核定（本地设置）：{computation.explain()}"


# The panel visits, each member scores and signs their own sheet, and only then may the leader conclude.
PANEL = (DrawPanel(), Score(LEADER), Score(MEMBER))


def award_tail(programme: str = "emc-acceptance", kind: str = "enterprise", reference: str = "SH-EMC-2026-0001"):  # type: ignore[no-untyped-def]
    """Propose the rule's amount (officer 1), approve it (officer 2), record its payment (value date today)."""
    amount, why = demo_award(programme, kind)
    paid = {"payment_reference": reference, "amount": amount, "value_date": today_in_shanghai(utcnow()).isoformat()}
    return (
        Fire("finance1", "propose_award", {"amount": amount, "comment": why}),
        Fire("finance2", "approve_award", {"comment": "复核无误"}),
        Fire("finance1", "record_payment", paid),
    )
