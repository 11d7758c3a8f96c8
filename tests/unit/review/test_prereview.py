"""District pre-review: pass only with every check done and in order; return with points; reject with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from review import prereview
from review.models import PreReview
from tests import factories
from workflow.db import db
from workflow.engine import fire
from workflow.errors import GuardFailed

ALL_OK = dict.fromkeys(prereview.CHECKS, "ok")
SEED_002 = Path(__file__).resolve().parents[3] / "docs" / "sources" / "seed-002-emc-acceptance.txt"


def test_the_checks_are_what_the_seed_asks_in_its_words():
    """Seed 002 §五(一): "对申报材料真实性进行初审，包括申请表、企业、数据中心或园区法人资格、运营情况及经济状况等"."""
    sentence = "对申报材料真实性进行初审，包括申请表、企业、数据中心或园区法人资格、运营情况及经济状况等"
    assert sentence in SEED_002.read_text(encoding="utf-8")
    labels = [zh for zh, _en in prereview.CHECKS.values()]
    assert labels == ["申请表真实性", "法人资格", "运营情况", "经济状况"]
    assert all(word in sentence for word in ("申请表", "真实性", "法人资格", "运营情况", "经济状况"))
    assert list(prereview.CHECKS) == ["form_authenticity", "legal_entity", "operations", "finances"]  # keys kept


@pytest.fixture
def submitted(cast) -> int:
    """An application waiting for its district's pre-review."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    return app_id


def _records(app_id: int) -> list[PreReview]:
    with db.transaction() as session:
        return list(session.scalars(select(PreReview).where(PreReview.application_id == app_id).order_by(PreReview.id)))


def _problems(error: GuardFailed) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in error.problems}


def test_pass_with_every_check_in_order_records_the_checks_and_opinion(cast, submitted):
    result = fire(submitted, "pass_prereview", cast.district_reviewer, {"checks": ALL_OK, "opinion": "同意上报"})
    assert result.state == "completeness_check"
    (record,) = _records(submitted)
    assert (record.decision, record.checks, record.opinion, record.points) == ("pass_prereview", ALL_OK, "同意上报", [])
    assert record.reviewer_id == cast.district_reviewer.id
    assert record.event_seq == result.event_seq


def test_pass_is_refused_naming_each_check_not_done_or_wanting(cast, submitted):
    checks = {"form_authenticity": "ok", "legal_entity": "not_checked", "finances": "problem"}  # operations left out
    with pytest.raises(GuardFailed) as refused:
        fire(submitted, "pass_prereview", cast.district_reviewer, {"checks": checks})
    assert _problems(refused.value) == {
        ("checks.legal_entity", "not_checked"),
        ("checks.operations", "not_checked"),
        ("checks.finances", "problem_found"),
    }
    assert "“经济状况”核查发现问题" in refused.value.detail
    assert factories.state_of(submitted)[0] == "district_review"
    assert _records(submitted) == []


def test_pass_needs_the_checks(cast, submitted):
    with pytest.raises(GuardFailed) as refused:
        fire(submitted, "pass_prereview", cast.district_reviewer, {"opinion": "同意"})
    assert _problems(refused.value) == {("checks", "required")}


@pytest.mark.parametrize(
    ("checks", "problem"),
    [
        ({**ALL_OK, "finances": "fine"}, ("checks.finances", "invalid_finding")),
        ({**ALL_OK, "weather": "ok"}, ("checks.weather", "unknown_check")),
        (["ok", "ok"], ("checks", "invalid")),
    ],
    ids=["bad-finding", "unknown-check", "not-a-mapping"],
)
def test_malformed_checks_are_named(cast, submitted, checks, problem):
    with pytest.raises(GuardFailed) as refused:
        fire(submitted, "pass_prereview", cast.district_reviewer, {"checks": checks})
    assert problem in _problems(refused.value)


def test_return_keeps_the_points_to_correct_and_the_opinion(cast, submitted):
    payload = {
        "comment": "材料不全，请补正",
        "opinion": "材料不全，请补正",
        "points": ["申请表缺少法定代表人签字", "  ", "审计报告未盖章"],
        "checks": {**ALL_OK, "form_authenticity": "problem"},
    }
    assert fire(submitted, "return_for_correction", cast.district_reviewer, payload).state == "returned"
    (record,) = _records(submitted)
    assert record.decision == "return_for_correction"
    assert record.points == ["申请表缺少法定代表人签字", "审计报告未盖章"]
    assert record.opinion == "材料不全，请补正"
    assert record.checks["form_authenticity"] == "problem"


def test_return_with_a_comment_alone_lists_its_lines_as_the_points(cast, submitted):
    fire(submitted, "return_for_correction", cast.district_reviewer, {"comment": "缺少签字页\n\n审计报告未盖章"})
    (record,) = _records(submitted)
    assert record.points == ["缺少签字页", "审计报告未盖章"]
    assert record.opinion == ""
    assert record.checks == dict.fromkeys(prereview.CHECKS, "not_checked")


def test_return_needs_a_comment(cast, submitted):
    with pytest.raises(GuardFailed) as refused:
        fire(submitted, "return_for_correction", cast.district_reviewer, {"points": ["缺少签字页"]})
    assert _problems(refused.value) == {("comment", "required")}
    assert factories.state_of(submitted)[0] == "district_review"


def test_reject_keeps_the_reasons(cast, submitted):
    payload = {"comment": "不符合申报条件", "points": ["项目未通过竣工验收"], "checks": ALL_OK}
    assert fire(submitted, "reject", cast.district_reviewer, payload).state == "rejected"
    (record,) = _records(submitted)
    assert (record.decision, record.points, record.opinion) == ("reject", ["项目未通过竣工验收"], "不符合申报条件")


def test_the_applicant_is_told_returns_and_rejections_only(cast, submitted):
    fire(submitted, "return_for_correction", cast.district_reviewer, {"comment": "缺少签字页"})
    factories.drive_to(cast, submitted, "completeness_check")  # resubmitted, then passed
    with db.transaction() as session:
        everything = [r.decision for r in prereview.records(session, submitted)]
        told = [r.decision for r in prereview.records(session, submitted, applicant=True)]
    assert everything == ["return_for_correction", "pass_prereview"]
    assert told == ["return_for_correction"]


def test_points_as_one_text_are_split_into_lines():
    assert prereview.normalise_points(" 一 \n\n 二") == ["一", "二"]
    assert prereview.normalise_points(["一", 2, " "]) == ["一", "2"]
    assert prereview.normalise_points(None) == []
