"""The stages of a programme, derived from its definition (workflow.progress): seed 002 §五's procedure for the
acceptance subsidy, seed 000's for the monitoring fund, and a definition's own grouping where it declares one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from workflow.definitions import Definition, parse, shipped
from workflow.progress import desk_name, holder_roles, main_path, progress, side_states, stages


def _newest(code: str) -> Definition:
    return max((d for d in shipped() if d.code == code), key=lambda d: d.version)


EMC = _newest("emc-acceptance")
FUND = _newest("monitoring-fund")


def test_the_acceptance_subsidy_goes_through_the_seeds_procedure_in_order() -> None:
    # Seed 002 §五: 区 pre-review, 市经济信息化委 completeness, third-party site verification, award and payout.
    assert [s.key for s in stages(EMC)] == [
        "draft",
        "district_review",
        "completeness_check",
        "site_verification",
        "funding_review",
        "paid",
        "archived",
    ]
    by_key = {s.key: s for s in stages(EMC)}
    # Finance proposes, a second officer approves, then records the payment: one desk, one stage.
    assert by_key["funding_review"].states == ("funding_review", "award_proposed", "award_approved")
    # A return and a supplement request come back to where they left: detours, not stages.
    assert by_key["district_review"].detours == ("returned",)
    assert by_key["completeness_check"].detours == ("supplement_requested",)
    detours, exits = side_states(EMC, main_path(EMC))
    assert exits == {"rejected", "withdrawn", "lapsed", "verification_failed"}
    assert detours == {"returned": "district_review", "supplement_requested": "completeness_check"}


def test_the_monitoring_fund_has_its_own_stages_from_its_own_definition() -> None:
    # Seed 000: 市计测院 reviews, 市市场监管局 approves.
    assert [s.key for s in stages(FUND)] == [
        "draft",
        "technical_review",
        "regulator_approval",
        "funding_review",
        "paid",
        "archived",
    ]
    assert desk_name("monitoring_reviewer", FUND, None, "") == "市计测院"
    assert desk_name("market_regulator", FUND, None, "") == "市市场监管局"


def test_a_supplement_is_the_applicants_to_answer_within_the_completeness_stage() -> None:
    due = dt.date(2026, 3, 20)
    visited = ["draft", "district_review", "completeness_check", "supplement_requested"]
    found = progress(EMC, "supplement_requested", visited, "zh", due=due)
    assert found.current == 2
    assert [s.status for s in found.steps] == ["done", "done", "current", *["upcoming"] * 4]
    assert found.steps[2].detour == "待补充材料"
    assert found.holders == ("applicant",)  # lapsing is the system's, not a holder
    assert found.actions == ("提交补充材料",)  # withdrawing leaves the way: not what moves it on
    assert found.next_label == "市经济信息化委完备性审核中"
    assert (found.due, found.due_source) == (due, "deadline")


def test_where_a_desk_may_act_the_applicants_withdrawal_does_not_make_it_theirs() -> None:
    assert holder_roles(EMC, "district_review") == ("district_reviewer",)
    assert holder_roles(EMC, "site_verification", attending=["agency_coordinator"]) == ("agency_coordinator", "expert")
    assert holder_roles(EMC, "archived") == ()
    found = progress(
        EMC,
        "award_proposed",
        ["draft", "district_review", "completeness_check", "site_verification", "funding_review", "award_proposed"],
    )
    # The proposed award is finance's working (hidden from the applicant): the stage is the funding review.
    assert found.steps[found.current].label == "资金审核中" and found.steps[found.current].detour is None
    assert found.next_label == "已拨付" and found.actions == ()


def test_archived_after_a_rejection_shows_the_stages_it_never_went_through() -> None:
    found = progress(EMC, "archived", ["draft", "district_review", "rejected", "archived"], "en")
    assert [s.status for s in found.steps] == ["done", "done", *["skipped"] * 4, "current"]
    assert found.ended == "Rejected"
    assert found.holders == () and found.next_label is None


def test_a_draft_is_due_when_the_submission_window_closes() -> None:
    window = FUND.window
    assert window is not None and window.closes is not None
    found = progress(FUND, "draft", ["draft"])
    assert (found.due, found.due_source) == (window.closes, "window")
    assert found.holders == ("applicant",) and found.actions == ("提交申请",)


def test_a_definition_may_declare_its_own_stages() -> None:
    raw: dict[str, Any] = dict(EMC.raw)
    raw["stages"] = [
        {"states": ["draft"], "label": {"zh": "填报", "en": "Filling in"}},
        {"states": ["district_review", "completeness_check"], "label": {"zh": "材料审核", "en": "Documents"}},
        {"states": ["site_verification"], "label": {"zh": "现场核查", "en": "On site"}},
        {
            "states": ["funding_review", "award_proposed", "award_approved", "paid"],
            "label": {"zh": "资金", "en": "Funding"},
        },
        {"states": ["archived"], "label": {"zh": "归档", "en": "Archived"}},
    ]
    found = stages(parse(raw))
    assert [s.label["zh"] for s in found] == ["填报", "材料审核", "现场核查", "资金", "归档"]
    assert found[1].detours == ("returned", "supplement_requested")
    # A declaration that leaves out a state of the way is not used: the derived stages stand.
    raw["stages"] = raw["stages"][:2]
    assert [s.key for s in stages(parse(raw))] == [s.key for s in stages(EMC)]
