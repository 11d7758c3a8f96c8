"""The online-monitoring construction fund: a key energy-using unit's application, from submission to archive."""

from __future__ import annotations

from decimal import Decimal

from web.demo.steps import FUNDED, Fire, Refuse, Scenario, award_tail, demo_award
from workflow.errors import Forbidden, GuardFailed


def enterprise() -> Scenario:
    return Scenario(
        "在线监测专项 · 全流程",
        "monitoring-fund",
        "enterprise",
        "applicant",
        "申闵精密（演示）能耗在线监测系统建设项目",
        (
            Fire("applicant", "submit"),
            Refuse("metering", "approve_support", Forbidden, "the metering institute approving for the regulator"),
            Fire("metering", "pass_technical_review", {"comment": "接入数据完整"}),
            Fire("regulator", "approve_support"),
            Refuse(
                "finance1",
                "propose_award",
                GuardFailed,
                "an award a fen above the programme's rule",
                {"amount": f"{Decimal(demo_award('monitoring-fund', 'enterprise')[0]) + Decimal('0.01')}"},
            ),
            *award_tail("monitoring-fund", "enterprise", "SH-MON-2026-0001"),
            Fire("regulator", "archive"),
        ),
        f"draft technical_review regulator_approval {FUNDED}",
    )
