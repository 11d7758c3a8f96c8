"""The panel's consensus (who said what, dissent kept) and the leader's conclusion once every sheet is signed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from review import consensus, scoring
from review.checklists import load
from review.models import ChecklistAnswer, ChecklistSheet, PanelConclusion
from tests import factories
from workflow import operations
from workflow.db import db
from workflow.engine import fire
from workflow.errors import Forbidden, GuardFailed, NotFound
from workflow.models import Application
from workflow.registry import Context
from workflow.visibility import programme_definitions


@pytest.fixture
def panel(cast) -> int:
    """An enterprise's application in site verification: cast.expert leads, cast.expert2 sits (both declared)."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    factories.ensure_leader(cast, app_id)
    operations.assign(cast.agency_coordinator, app_id, cast.expert2.id)
    factories.declare_clear(app_id, cast.expert2.id)
    factories.visit_day_arrives(app_id)
    factories.note_visit_steps(app_id)
    return app_id


def _score(expert, app_id: int, overrides: dict[str, str], notes: dict[str, str] | None = None, submit=True):
    """Every criterion conform but `overrides`; signed and submitted unless `submit` is False."""
    sheet = scoring.view_sheet(expert, app_id)
    results = [
        {"criterion": c["id"], "result": overrides.get(c["id"], "conform"), "note": (notes or {}).get(c["id"], "")}
        for cat in sheet["categories"]
        for c in cat["criteria"]
    ]
    scoring.save_answers(expert, app_id, results)
    if submit:
        scoring.submit_sheet(expert, app_id, factories.SIGNATURE_PNG, expert.username, True, factories.blob_store())


def _consensus(app_id: int, actor=None) -> dict:
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        if actor is None:
            return consensus.consensus(session, app)
        return consensus.consensus_for(session, actor, app)


def _criterion(report: dict, criterion_id: str) -> dict:
    return next(c for c in report["criteria"] if c["criterion"] == criterion_id)


def _category(report: dict, category_id: str) -> dict:
    return next(c for c in report["categories"] if c["category"] == category_id)


def _problems(error: GuardFailed) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


# --- who said what ------------------------------------------------------------------------------------------


def test_agreement_per_criterion_with_who_said_what(cast, panel):
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {"2.2": "nonconform"}, {"2.2": "三级表具接入率仅 72%"})
    report = _consensus(panel)
    assert report["complete"] is True
    assert [e["username"] for e in report["experts"]] == [cast.expert.username, cast.expert2.username]
    assert [e["leader"] for e in report["experts"]] == [True, False]

    split = _criterion(report, "2.2")
    assert split["agreement"] == "disagree"
    assert [(r["username"], r["result"], r["note"]) for r in split["results"]] == [
        (cast.expert.username, "conform", ""),
        (cast.expert2.username, "nonconform", "三级表具接入率仅 72%"),
    ]
    assert _criterion(report, "1.1")["agreement"] == "agree"
    assert report["disagreements"] == ["2.2"]
    assert _category(report, "2")["agreement"] == "disagree"
    assert _category(report, "1")["agreement"] == "agree"
    assert report["overall"] == {
        "agreement": "disagree",
        "findings": [
            {"username": cast.expert.username, "finding": "conform", "weighted_score": None},
            {"username": cast.expert2.username, "finding": "nonconform", "weighted_score": None},
        ],
    }
    assert "2.3" not in {c["criterion"] for c in report["criteria"]}  # an enterprise, not a data centre


def test_a_draft_does_not_count_until_signed(cast, panel):
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {"2.2": "nonconform"}, submit=False)
    report = _consensus(panel)
    assert report["complete"] is False
    assert [r["result"] for r in _criterion(report, "2.2")["results"]] == ["conform", None]
    assert _criterion(report, "2.2")["agreement"] == "pending"
    assert report["disagreements"] == []
    assert [f["finding"] for f in report["overall"]["findings"]] == ["conform", None]
    assert [e["submitted_at"] is not None for e in report["experts"]] == [True, False]


def test_category_rule_any_conforms_on_one_effect_all_needs_every_criterion(cast, panel):
    # 6 (一种或多种效果) is `any`; 3 is `all`.
    _score(cast.expert, panel, {"6.2": "nonconform", "6.3": "nonconform"})
    _score(cast.expert2, panel, {"3.2": "nonconform"})
    report = _consensus(panel)
    assert [r["result"] for r in _category(report, "6")["results"]] == ["conform", "conform"]
    assert _category(report, "6")["agreement"] == "agree"
    assert [r["result"] for r in _category(report, "3")["results"]] == ["conform", "nonconform"]
    assert report["disagreements"] == ["3.2", "6.2", "6.3"]
    assert [f["finding"] for f in report["overall"]["findings"]] == ["conform", "nonconform"]


def test_category_result_by_rule():
    table = load("emc-checklist-enterprise@1")
    effects = next(c for c in table.categories if c.id == "6")
    security = next(c for c in table.categories if c.id == "3")
    assert effects.rule == "any" and security.rule == "all"
    none = {"6.1": "nonconform", "6.2": "nonconform", "6.3": "not_applicable"}
    one = {**none, "6.2": "conform"}
    assert consensus.category_result(effects, "enterprise", none) == "nonconform"
    assert consensus.category_result(effects, "enterprise", one) == "conform"
    assert consensus.category_result(effects, "enterprise", {"6.1": "conform"}) is None  # not all scored
    mixed = {"3.1": "conform", "3.2": "conform", "3.3": "nonconform", "3.4": "conform"}
    assert consensus.category_result(security, "enterprise", mixed) == "nonconform"
    assert consensus.category_result(security, "enterprise", {**mixed, "3.3": "not_applicable"}) == "conform"
    assert consensus.category_result(security, "enterprise", dict.fromkeys(mixed, "not_applicable")) == (
        "not_applicable"
    )
    metering = next(c for c in table.categories if c.id == "2")
    scored = {"2.1": "conform", "2.2": "conform"}
    assert consensus.category_result(metering, "enterprise", scored) == "conform"
    assert consensus.category_result(metering, "data_centre", scored) is None  # 2.3 is theirs to answer


# --- no one is swayed ---------------------------------------------------------------------------------------


def test_an_expert_sees_the_others_results_only_after_submitting_their_own(cast, panel):
    _score(cast.expert, panel, {"2.2": "nonconform"}, {"2.2": "接入率不足"})
    _score(cast.expert2, panel, {}, submit=False)
    blind = _consensus(panel, cast.expert2)
    assert blind["withheld"] is True
    assert all(r["result"] is None and r["note"] == "" for c in blind["criteria"] for r in c["results"])
    assert all(r["result"] is None for c in blind["categories"] for r in c["results"])
    assert [f["finding"] for f in blind["overall"]["findings"]] == [None, None]
    assert [e["submitted_at"] is not None for e in blind["experts"]] == [True, False]  # who is done: yes

    # The leader has submitted: sees their own and (none yet) of the other; the coordinator is never blind.
    leader = _consensus(panel, cast.expert)
    assert leader["withheld"] is False
    assert [r["result"] for r in _criterion(leader, "2.2")["results"]] == ["nonconform", None]
    assert _consensus(panel, cast.agency_coordinator)["withheld"] is False

    scoring.submit_sheet(cast.expert2, panel, factories.SIGNATURE_PNG, "李工", True, factories.blob_store())
    seen = _consensus(panel, cast.expert2)
    assert seen["withheld"] is False
    assert [(r["result"], r["note"]) for r in _criterion(seen, "2.2")["results"]] == [
        ("nonconform", "接入率不足"),
        ("conform", ""),
    ]


# --- the conclusion -----------------------------------------------------------------------------------------


def test_the_conclusion_keeps_the_dissent(cast, panel):
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {"2.2": "nonconform"}, {"2.2": "三级表具接入率仅 72%"})
    result = fire(panel, "conclude_pass", cast.expert, {"comment": "多数意见：符合验收要求；2.2 有异议已记录"})
    assert result.state == "funding_review"
    with db.transaction() as session:
        row = session.scalars(select(PanelConclusion).where(PanelConclusion.application_id == panel)).one()
    assert (row.result, row.leader_id, row.event_seq) == ("pass", cast.expert.id, result.event_seq)
    assert row.reasons == "多数意见：符合验收要求；2.2 有异议已记录"
    assert row.consensus["disagreements"] == ["2.2"]
    dissent = _criterion(row.consensus, "2.2")["results"][1]
    assert (dissent["username"], dissent["result"], dissent["note"]) == (
        cast.expert2.username,
        "nonconform",
        "三级表具接入率仅 72%",
    )
    assert row.consensus["overall"]["agreement"] == "disagree"


def test_a_fail_is_recorded_as_fail(cast, panel):
    _score(cast.expert, panel, {"2.2": "nonconform"})
    _score(cast.expert2, panel, {"2.2": "nonconform"})
    assert fire(panel, "conclude_fail", cast.expert, {"comment": "三级表具接入率不足80%"}).state == (
        "verification_failed"
    )
    with db.transaction() as session:
        row = session.scalars(select(PanelConclusion).where(PanelConclusion.application_id == panel)).one()
    assert row.result == "fail" and row.consensus["overall"]["agreement"] == "agree"


def test_only_the_leader_concludes(cast, panel):
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {})
    with pytest.raises(Forbidden):
        fire(panel, "conclude_pass", cast.expert2, {"comment": "符合"})
    assert factories.state_of(panel)[0] == "site_verification"


def test_the_conclusion_waits_for_every_declared_member_and_every_criterion(cast, panel):
    operations.assign(cast.agency_coordinator, panel, factories.make_user("expert", username="王工").id)
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {}, submit=False)
    # A draft with two criteria cleared.
    scoring.save_answers(
        cast.expert2, panel, [{"criterion": "6.2", "result": None}, {"criterion": "6.3", "result": None}]
    )
    with pytest.raises(GuardFailed) as refused:
        fire(panel, "conclude_pass", cast.expert, {"comment": "符合"})
    assert _problems(refused.value) == {
        ("panel.王工", "not_declared"),
        (f"panel.{cast.expert2.username}", "sheet_not_submitted"),
        (f"panel.{cast.expert2.username}.6.2", "no_result"),
        (f"panel.{cast.expert2.username}.6.3", "no_result"),
    }
    assert factories.state_of(panel)[0] == "site_verification"


def test_a_signed_sheet_that_lost_a_result_still_blocks_the_conclusion(cast, panel):
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {})
    with db.transaction() as session:  # as if the checklist had been changed under a signed sheet
        sheet = session.scalars(select(ChecklistSheet).where(ChecklistSheet.expert_id == cast.expert2.id)).one()
        answer = session.scalars(
            select(ChecklistAnswer).where(ChecklistAnswer.sheet_id == sheet.id, ChecklistAnswer.criterion == "4.4")
        ).one()
        answer.result = None
    with pytest.raises(GuardFailed) as refused:
        fire(panel, "conclude_fail", cast.expert, {"comment": "不符合"})
    assert _problems(refused.value) == {(f"panel.{cast.expert2.username}.4.4", "no_result")}


def test_the_conclusion_needs_the_panels_reasons(cast, panel):
    _score(cast.expert, panel, {})
    _score(cast.expert2, panel, {})
    with pytest.raises(GuardFailed) as refused:
        fire(panel, "conclude_pass", cast.expert, {"comment": "  "})
    assert _problems(refused.value) == {("comment", "required")}


def test_no_panel_no_conclusion(cast):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        definition = programme_definitions(session)[app.programme_version_id]
        transition = next(t for t in definition.transitions if t.trigger == "conclude_pass")
        ctx = Context(
            session, app, cast.expert, "conclude_pass", {"comment": "符合"}, definition, transition, app.state
        )
        assert [(p.field, p.code) for p in consensus.panel_sheets_complete(ctx)] == [("panel", "no_panel")]
    with pytest.raises(NotFound):  # and without a panel, no expert even sees the application
        fire(app_id, "conclude_pass", cast.expert, {"comment": "符合"})


# --- the outcome of 一种或多种效果, and the conclusion the findings support (issue 9) ---------------------------------


def test_effects_are_met_only_when_one_conforms_and_all_not_applicable_is_unmet():
    """附表 category 6 "能源管理中心建设前后可实现以下一种或多种效果": one effect conforming meets it."""
    table = load("emc-checklist-enterprise@2")
    effects = next(c for c in table.categories if c.preamble.startswith("能源管理中心建设前后可实现以下一种或多种效果"))
    none_claimed = dict.fromkeys(("6.1", "6.2", "6.3"), "not_applicable")
    assert consensus.category_result(effects, "enterprise", none_claimed) == "nonconform"
    assert consensus.category_result(effects, "enterprise", {**none_claimed, "6.2": "conform"}) == "conform"
    assert consensus.category_result(effects, "enterprise", {**none_claimed, "6.2": "nonconform"}) == "nonconform"


def test_a_sheet_of_nothing_but_not_applicable_is_not_conform():
    assert consensus.overall_finding(["not_applicable"] * 6) == "nonconform"
    assert consensus.overall_finding(["conform", "not_applicable"]) == "conform"
    assert consensus.overall_finding(["conform", "nonconform"]) == "nonconform"
    assert consensus.overall_finding(["conform", None]) is None


@pytest.fixture
def panel_of_three(cast, panel) -> int:
    """The panel fixture with a third member, cast.expert3, declared clear."""
    third = factories.make_user("expert")
    operations.assign(cast.agency_coordinator, panel, third.id)
    factories.declare_clear(panel, third.id)
    cast.expert3 = third  # type: ignore[attr-defined]
    return panel


def test_pass_is_refused_while_a_majority_finds_a_criterion_nonconforming(cast, panel_of_three):
    """Two of three find 3.2 不符合: no 通过, named criterion and votes; 不通过 stays open with reasons."""
    _score(cast.expert, panel_of_three, {})
    _score(cast.expert2, panel_of_three, {"3.2": "nonconform"})
    _score(cast.expert3, panel_of_three, {"3.2": "nonconform"})  # type: ignore[attr-defined]
    with pytest.raises(GuardFailed) as refused:
        fire(panel_of_three, "conclude_pass", cast.expert, {"comment": "组长认为符合"})
    assert _problems(refused.value) == {("criteria.3.2", "majority_nonconform")}
    assert "2/3" in refused.value.detail and cast.expert2.username in refused.value.detail
    assert fire(panel_of_three, "conclude_fail", cast.expert, {"comment": "3.2 多数不符合"}).state == (
        "verification_failed"
    )


def test_one_dissent_in_three_does_not_block_a_pass_and_is_kept(cast, panel_of_three):
    _score(cast.expert, panel_of_three, {})
    _score(cast.expert2, panel_of_three, {"3.2": "nonconform"})
    _score(cast.expert3, panel_of_three, {})  # type: ignore[attr-defined]
    assert fire(panel_of_three, "conclude_pass", cast.expert, {"comment": "多数符合"}).state == "funding_review"
    with db.transaction() as session:
        kept = session.scalars(select(PanelConclusion).where(PanelConclusion.application_id == panel_of_three)).one()
        assert kept.consensus["disagreements"] == ["3.2"]


def test_pass_is_refused_while_a_majority_finds_no_effect(cast, panel_of_three):
    """Two of three find every effect 不适用 or 不符合: category 6 unmet, no 通过."""
    unmet = {"6.1": "not_applicable", "6.2": "nonconform", "6.3": "not_applicable"}
    _score(cast.expert, panel_of_three, {})
    _score(cast.expert2, panel_of_three, unmet)
    _score(cast.expert3, panel_of_three, unmet)  # type: ignore[attr-defined]
    with pytest.raises(GuardFailed) as refused:
        fire(panel_of_three, "conclude_pass", cast.expert, {"comment": "效果明显"})
    assert ("categories.6", "effects_unmet") in _problems(refused.value)
