"""Applications the demo leaves waiting, one at each desk, so every demo account has work on first login."""

from __future__ import annotations

from web.demo.steps import LEADER, PANEL, PREREVIEW, DrawPanel, Fire, Scenario


def at_the_desks() -> list[Scenario]:
    """One scenario per desk, each stopping where that desk must act; `waits_for` names the account to try."""
    return [
        Scenario(
            "待区级初审",
            "emc-acceptance",
            "enterprise",
            "applicant",
            "申闵精密（演示）二期能源管理中心项目",
            (Fire("applicant", "submit"),),
            "draft district_review",
            waits_for="district_minhang",
        ),
        Scenario(
            "待市级完整性审核",
            "emc-acceptance",
            "data_centre",
            "applicant_dc",
            "浦江云数据中心（演示）二期能源管理中心项目",
            (Fire("applicant_dc", "submit"), Fire("group_reviewer", "pass_prereview", PREREVIEW)),
            "draft district_review completeness_check",
            waits_for="municipal",
        ),
        Scenario(
            "待专家现场核查",
            "emc-acceptance",
            "park",
            "applicant_park",
            "紫竹低碳产业园（演示）二期能源管理中心项目",
            (
                Fire("applicant_park", "submit"),
                Fire("district_minhang", "pass_prereview", PREREVIEW),
                Fire("municipal", "confirm_complete"),
                DrawPanel(),
            ),
            "draft district_review completeness_check site_verification",
            waits_for="the two experts drawn (of expert1–expert3), coordinator",
        ),
        Scenario(
            "待资金审核",
            "emc-acceptance",
            "enterprise",
            "applicant",
            "申闵精密（演示）三期能源管理中心项目",
            (
                Fire("applicant", "submit"),
                Fire("district_minhang", "pass_prereview", PREREVIEW),
                Fire("municipal", "confirm_complete"),
                *PANEL,
                Fire(LEADER, "conclude_pass", {"comment": "现场核查通过：核查表各项均符合要求"}),
            ),
            "draft district_review completeness_check site_verification funding_review",
            waits_for="finance1",
        ),
        Scenario(
            "在线监测专项 · 待技术审核",
            "monitoring-fund",
            "data_centre",
            "applicant_dc",
            "浦江云数据中心（演示）能耗在线监测系统建设项目",
            (Fire("applicant_dc", "submit"),),
            "draft technical_review",
            waits_for="metering",
        ),
        Scenario(
            "在线监测专项 · 待审批",
            "monitoring-fund",
            "enterprise",
            "applicant",
            "申闵精密（演示）二期能耗在线监测系统建设项目",
            (Fire("applicant", "submit"), Fire("metering", "pass_technical_review", {"comment": "接入数据完整"})),
            "draft technical_review regulator_approval",
            waits_for="regulator",
        ),
    ]
