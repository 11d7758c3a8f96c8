"""附表1 and 附表2 as data: every text word for word from seed 002, nothing dropped, nothing reworded."""

from __future__ import annotations

from pathlib import Path

import pytest

from review import checklists
from review.checklists import Checklist
from workflow.definitions import shipped

SEED = Path(__file__).parents[3] / "docs" / "sources" / "seed-002-emc-acceptance.txt"
# The table's own headings and empty cells, which are no criterion.
HEADERS = {"类别", "验收标准", "核查结果", "基本要求", "核查结论"}


def _sections() -> dict[str, list[str]]:
    """The seed's lines between `附表1`, `附表2` and `附件2`, stripped, blanks dropped."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    marks = {line.strip(): n for n, line in enumerate(lines) if line.strip() in ("附表1", "附表2", "附件2")}
    assert set(marks) == {"附表1", "附表2", "附件2"}, "the seed's annex markers moved"
    assert marks["附表1"] < marks["附表2"] < marks["附件2"]

    def between(start: int, end: int) -> list[str]:
        return [line.strip() for line in lines[start + 1 : end] if line.strip()]

    return {
        "附表1": between(marks["附表1"], marks["附表2"]),
        "附表2": between(marks["附表2"], marks["附件2"]),
    }


SECTIONS = _sections()
SHIPPED = checklists.shipped()
# The newest version of each annex; the word-for-word tests run over every shipped version.
TABLES = {c.annex: c for c in sorted(SHIPPED, key=lambda c: c.version)}
EVERY = [pytest.param(c, id=c.ref) for c in SHIPPED]


def _texts(checklist: Checklist) -> list[str]:
    """Every text the checklist carries from the table: category titles, preambles, criteria."""
    out = []
    for category in checklist.categories:
        out.append(category.title)
        if category.preamble:
            out.append(category.preamble)
        out.extend(c.text for c in category.criteria)
    return out


def test_both_tables_are_shipped():
    assert set(TABLES) == {"附表1", "附表2"}
    assert {c.ref for c in SHIPPED} >= {"emc-checklist-enterprise@1", "emc-checklist-park@1"}
    assert {c.code for c in SHIPPED} == {"emc-checklist-enterprise", "emc-checklist-park"}


@pytest.mark.parametrize("checklist", EVERY)
def test_every_text_appears_verbatim_in_its_own_section(checklist):
    section = SECTIONS[checklist.annex]
    missing = [text for text in _texts(checklist) if text not in section]
    assert missing == []
    assert checklist.title in section


@pytest.mark.parametrize("checklist", EVERY)
def test_every_line_of_the_section_is_in_the_checklist(checklist):
    carried = set(_texts(checklist)) | HEADERS | {checklist.title}
    dropped = [line for line in SECTIONS[checklist.annex] if line not in carried]
    assert dropped == []


@pytest.mark.parametrize("checklist", EVERY)
def test_the_table_order_is_kept(checklist):
    section = SECTIONS[checklist.annex]
    positions = [section.index(text) for text in _texts(checklist)]
    assert positions == sorted(positions)


def test_a_text_from_the_other_table_would_be_caught():
    # The park's first criterion is not in 附表1's section: the check above is not vacuous.
    park_only = TABLES["附表2"].categories[0].criteria[0].text
    assert park_only not in SECTIONS["附表1"]


def test_the_effects_category_conforms_on_any_effect():
    for checklist in SHIPPED:
        rules = {c.id: c.rule for c in checklist.categories}
        assert rules.pop("6") == "any"
        assert set(rules.values()) == {"all"}
        assert checklist.categories[-1].preamble == "能源管理中心建设前后可实现以下一种或多种效果："


def test_criterion_2_3_is_for_data_centres_only():
    table = TABLES["附表1"]
    assert "数据中心能耗在线监测平台" in table.by_id["2.3"].text
    enterprise = [c.id for c in table.criteria_for("enterprise")]
    data_centre = [c.id for c in table.criteria_for("data_centre")]
    assert "2.3" not in enterprise
    assert "2.3" in data_centre
    assert [c for c in data_centre if c != "2.3"] == enterprise
    assert len(data_centre) == 18


@pytest.mark.parametrize("definition", [d for d in shipped() if d.code == "emc-acceptance"], ids=lambda d: d.label)
def test_the_programme_names_a_table_for_each_applicant_kind(definition):
    for kind in definition.applicant_kinds:
        found = checklists.for_application(definition, kind)
        assert found is not None
        assert found.annex == ("附表2" if kind == "park" else "附表1")


def test_an_unknown_reference_is_refused():
    with pytest.raises(KeyError):
        checklists.load("emc-checklist-enterprise@9")
    with pytest.raises(KeyError):
        checklists.load("emc-checklist-enterprise")


# --- 不适用 only where the data says so; the scale (issue 9) ------------------------------------------------------

NEWEST = [c for c in SHIPPED if c.version >= 2]


@pytest.mark.parametrize("checklist", [pytest.param(c, id=c.ref) for c in NEWEST])
def test_the_tier_ratios_and_the_platform_are_never_not_applicable(checklist):
    """Found by the seed's own words: the access ratios (100 / 95 / 80 %) and 上海市数据中心能耗在线监测平台."""
    ratios = [c for c in checklist.by_id.values() if "一级（关口）表具接入比例" in c.text]
    platform = [c for c in checklist.by_id.values() if "上海市数据中心能耗在线监测平台" in c.text]
    assert ratios and (platform or checklist.annex == "附表2")
    assert not any(c.not_applicable for c in ratios + platform)


@pytest.mark.parametrize("checklist", [pytest.param(c, id=c.ref) for c in NEWEST])
def test_only_the_effects_of_one_or_more_may_be_not_applicable(checklist):
    allowed = {c.id for c in checklist.by_id.values() if c.not_applicable}
    effects = next(
        cat for cat in checklist.categories if cat.preamble == "能源管理中心建设前后可实现以下一种或多种效果："
    )
    assert allowed == {c.id for c in effects.criteria}
    assert all(c.claims for c in effects.criteria)  # each shows what the applicant claimed


def test_scores_lie_on_a_scale_the_checklist_names_and_at_version_1_on_100():
    assert {c.max_score for c in NEWEST} == {10.0}
    legacy = checklists.load("emc-checklist-enterprise@1")
    assert legacy.scale(legacy.by_id["1.1"]) == 100.0 and not any(c.not_applicable for c in legacy.by_id.values())
