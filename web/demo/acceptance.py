"""The energy-management-centre acceptance, one scenario per applicant kind (enterprise, data centre, park)."""

from __future__ import annotations

from web.demo.steps import (
    FUNDED,
    LEADER,
    MEMBER,
    PREREVIEW,
    DrawPanel,
    Fire,
    Refuse,
    Scenario,
    Score,
    Step,
    demo_award,
)
from workflow.errors import Forbidden, GuardFailed, NotAllowedNow, NotFound, StaleVersion

# The panel visits, each member scores and signs their own sheet, and only then may the leader conclude.
PANEL = (DrawPanel(), Score(LEADER), Score(MEMBER))
ITEMS = ["会计师事务所出具的项目专项审计报告", "三级计量器具配备清单及接入率说明"]
ANSWERS = {"1": "已上传专项审计报告（沪审字〔2026〕第118号）", "2": "已上传器具清单，三级接入率92%"}
FAIL_REASONS = "核查表第3.2项不符合：平台存在长时间断数（组员认为符合，意见已记录）"


def _award_tail() -> tuple[Step, ...]:
    amount, why = demo_award("emc-acceptance", "enterprise")
    return (
        Fire("finance1", "propose_award", {"amount": amount, "comment": why}),
        Fire("finance2", "approve_award", {"comment": "复核无误"}),
        Fire("finance1", "record_payment", {"payment_reference": "SH-EMC-2026-0001"}),
    )


def enterprise() -> Scenario:
    award_tail = _award_tail()
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
            award_tail[0],
            Refuse("finance1", "approve_award", GuardFailed, "the proposer approving their own proposal"),
            *award_tail[1:],
            Fire("municipal", "archive"),
            Refuse("applicant", "withdraw", NotAllowedNow, "withdrawing an archived application"),
        ),
        f"draft district_review completeness_check site_verification {FUNDED}",
    )


def data_centre() -> Scenario:
    return Scenario(
        "数据中心 · 退回修改 + 补充材料",
        "emc-acceptance",
        "data_centre",
        "applicant_dc",
        "浦江云数据中心（演示）能源管理中心建设项目",
        (
            Fire("applicant_dc", "submit"),
            Fire("group_reviewer", "return_for_correction", {"comment": "申请表缺少法定代表人签字页，请补正"}),
            Fire("applicant_dc", "resubmit"),
            Fire("group_reviewer", "pass_prereview", PREREVIEW),
            # No due date named: the programme's default of 10 working days applies.
            Fire("municipal", "request_supplement", {"items": ITEMS}),
            Refuse(
                "applicant_dc",
                "supply",
                GuardFailed,
                "a supplement with an item unanswered",
                payload={"answers": {"1": ANSWERS["1"]}},
            ),
            Fire("applicant_dc", "supply", {"answers": ANSWERS}),
            Fire("municipal", "confirm_complete"),
            *PANEL,
            Fire(LEADER, "conclude_pass", {"comment": "PUE 与能耗数据核查一致"}),
            *_award_tail(),
            Fire("municipal", "archive"),
        ),
        "draft district_review returned district_review completeness_check supplement_requested completeness_check "
        f"site_verification {FUNDED}",
    )


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
