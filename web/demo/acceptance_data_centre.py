"""The acceptance for a data centre: returned for correction, a supplement requested and answered."""

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
from workflow.errors import GuardFailed

ITEMS = ["会计师事务所出具的项目专项审计报告", "三级计量器具配备清单及接入率说明"]
ANSWERS = {"1": "已上传专项审计报告（沪审字〔2026〕第118号）", "2": "已上传器具清单，三级接入率92%"}


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
            *award_tail(),
            Fire("municipal", "archive"),
        ),
        "draft district_review returned district_review completeness_check supplement_requested completeness_check "
        f"site_verification {FUNDED}",
    )
