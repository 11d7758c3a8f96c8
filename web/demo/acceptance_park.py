"""The acceptance for a park: the site verification fails, one expert's dissent kept beside the conclusion."""

from __future__ import annotations

from web.demo.steps import (
    LEADER,
    MEMBER,
    PREREVIEW,
    DrawPanel,
    Fire,
    Refuse,
    Scenario,
    Score,
)
from workflow.errors import Forbidden, GuardFailed

FAIL_REASONS = "核查表第3.2项不符合：平台存在长时间断数（组员认为符合，意见已记录）"


def park() -> Scenario:
    return Scenario(
        "园区 · 现场核查不通过",
        "emc-acceptance",
        "park",
        "applicant_park",
        "紫竹低碳产业园（演示）能源管理中心建设项目",
        (
            Fire("applicant_park", "submit"),
            Fire("district_minhang", "pass_prereview", PREREVIEW),
            Fire("municipal", "confirm_complete"),
            DrawPanel(),
            Score(LEADER, (("3.2", "现场抽查：平台2026年3月有连续6天断数，数据缺失未补录"),)),
            Refuse(
                LEADER,
                "conclude_fail",
                GuardFailed,
                "concluding before every panel member has signed a sheet",
                {"comment": FAIL_REASONS},
            ),
            Score(MEMBER),  # finds 3.2 in order: the dissent is kept beside the conclusion
            Refuse(
                MEMBER,
                "conclude_fail",
                Forbidden,
                "a panel member who is not the leader concluding",
                {"comment": FAIL_REASONS},
            ),
            Fire(LEADER, "conclude_fail", {"comment": FAIL_REASONS}),
            Fire("municipal", "archive"),
        ),
        "draft district_review completeness_check site_verification verification_failed archived",
        dissent=("3.2",),
    )
