"""The energy-management-centre acceptance for an industrial enterprise: the whole way, four eyes on the award."""

from __future__ import annotations

from web.demo.steps import (
    FUNDED,
    LEADER,
    PANEL,
    PREREVIEW,
    Fire,
    Refuse,
    Scenario,
    award_tail,
)
from workflow.errors import Forbidden, GuardFailed, NotAllowedNow, NotFound, StaleVersion


def enterprise() -> Scenario:
    tail = award_tail()
    return Scenario(
        "工业企业 · 全流程（含四眼复核）",
        "emc-acceptance",
        "enterprise",
        "applicant",
        "申闵精密（演示）能源管理中心建设项目",
        (
            Fire("applicant", "submit"),
            Refuse("applicant", "pass_prereview", Forbidden, "an applicant passing its own pre-review", PREREVIEW),
            Refuse(
                "district_pudong",
                "pass_prereview",
                NotFound,
                "a reviewer of another district (may not even see it)",
                PREREVIEW,
            ),
            Refuse(
                "district_minhang",
                "pass_prereview",
                StaleVersion,
                "a decision taken on a stale version",
                PREREVIEW,
                stale=True,
            ),
            Fire("district_minhang", "pass_prereview", PREREVIEW),
            Fire("municipal", "confirm_complete"),
            *PANEL,
            Fire(LEADER, "conclude_pass", {"comment": "现场核查通过：核查表各项均符合要求"}),
            tail[0],
            Refuse("finance1", "approve_award", GuardFailed, "the proposer approving their own proposal"),
            *tail[1:],
            Fire("municipal", "archive"),
            Refuse("applicant", "withdraw", NotAllowedNow, "withdrawing an archived application"),
        ),
        f"draft district_review completeness_check site_verification {FUNDED}",
    )
