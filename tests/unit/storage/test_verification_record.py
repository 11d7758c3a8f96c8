"""The verification record as .docx from a hand-made dossier: 附表1 / 附表2 as printed, dissent kept, the sheets,
the signature and photos embedded, A4 with the binder margins and East Asian fonts."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.oxml.ns import qn

from review.checklists import RESULTS, load
from storage.verification_record import RESULT_WORDS, TEXT_WIDTH, Dossier, verification_record
from tests.support.uploads import png

ZHANG, LI = "张工", "李工"


SIGNATURE = png(300, 100)
PHOTO = png(3000, 1500)  # 3000 px at 72 dpi: far wider than the page


def make_dossier(ref: str, kind: str, *, concluded: bool = True, split: str | None = None) -> Dossier:
    """Two experts who agree on everything but `split` (张工 conform, 李工 nonconform there)."""
    checklist = load(ref)
    categories: list[Any] = []
    for cat in checklist.categories:
        rows = []
        for c in cat.criteria:
            applies = c.applies(kind)
            li = "nonconform" if c.id == split else "conform"
            rows.append(
                {
                    "id": c.id,
                    "text": c.text,
                    "only_for": "" if applies else "数据中心",
                    "agreement": "disagree" if c.id == split else "agree",
                    "results": [{"name": ZHANG, "result": "conform"}, {"name": LI, "result": li}] if applies else [],
                }
            )
        categories.append(
            {
                "id": cat.id,
                "title": cat.title,
                "preamble": cat.preamble,
                "rule": cat.rule,
                "agreement": "agree",
                "results": [{"name": ZHANG, "result": "conform"}, {"name": LI, "result": "conform"}],
                "criteria": rows,
            }
        )

    def sheet(name: str, leader: bool, photos: list[Any]) -> dict[str, Any]:
        answers = {
            c["id"]: {
                "result": "nonconform" if (name == LI and c["id"] == split) else "conform",
                "score": "8.50",
                "note": f"{name}对{c['id']}的说明",
            }
            for cat in categories
            for c in cat["criteria"]
            if not c["only_for"]
        }
        return {
            "name": name,
            "leader": leader,
            "submitted_at": "2026-05-12 11:30",
            "signed_name": name,
            "signature": SIGNATURE,
            "answers": answers,
            "photos": photos,
        }

    photo = {
        "criterion": "2.1" if kind != "park" else "1.1",
        "data": PHOTO,
        "sha256": "ab" * 32,
        "taken_at": "2026-05-12 10:05",
        "latitude": 31.02571,
        "longitude": 121.43362,
        "accuracy_m": 8.0,
    }
    return {
        "application": {
            "number": "42",
            "project_name": "能源管理中心建设项目",
            "unit": "上海申闵精密制造有限公司",
            "uscc": "91310112MA1GBXXX0X",
            "kind": "工业用能企业" if kind != "park" else "园区",
            "district": "闵行区",
        },
        "visit": {"at": "2026-05-12 09:30", "place": "闵行区剑川路 100 号", "note": ""},
        "panel": [
            {"name": ZHANG, "leader": True, "employer": "上海节能技术服务中心"},
            {"name": LI, "leader": False, "employer": "同济大学"},
        ],
        "draws": ["第1次首次抽取（2026-05-01 10:00，候选5人，随机种子 abc）"],
        "checklist": {
            "annex": checklist.annex,
            "title": checklist.title,
            "group": checklist.group,
            "conclusion_label": checklist.conclusion_label,
            "categories": categories,
        },
        "sheets": [sheet(ZHANG, True, [photo]), sheet(LI, False, [])],  # type: ignore[list-item]
        "conclusion": {
            "result": "fail",
            "reasons": "三级表具接入率不足80%",
            "leader": ZHANG,
            "concluded_at": "2026-05-12 16:00",
            "agreement": "disagree" if split else "agree",
            "findings": [
                {"name": ZHANG, "result": "conform"},
                {"name": LI, "result": "nonconform" if split else "conform"},
            ],
        }
        if concluded
        else None,
        "generated_at": "2026-05-13 09:00",
    }


def _open(data: bytes) -> Any:
    return Document(io.BytesIO(data))


def _checklist_table(doc: Any) -> Any:
    return next(t for t in doc.tables if t.rows[0].cells[-1].text == "核查结果")


def _result_cell_of(table: Any, text: str) -> str:
    row = next(r for r in table.rows if r.cells[2].text == text)
    return str(row.cells[3].text)


def test_the_enterprise_table_has_every_criterion_word_for_word_and_the_printed_columns():
    doc = _open(verification_record(make_dossier("emc-checklist-enterprise@1", "enterprise")))
    table = _checklist_table(doc)
    header = table.rows[0].cells
    assert [c.text for c in header] == ["类别", "类别", "验收标准", "核查结果"]
    assert header[0]._tc is header[1]._tc  # 类别 spans the group and category columns
    texts = [r.cells[2].text for r in table.rows[1:]]
    checklist = load("emc-checklist-enterprise@1")
    for category in checklist.categories:
        for criterion in category.criteria:
            assert criterion.text in texts
    # The preamble comes before the effects of category 6.
    preamble = "能源管理中心建设前后可实现以下一种或多种效果："
    assert texts.index(preamble) == texts.index("1、用能单位节能率达到5%（含）以上；") - 1
    assert _result_cell_of(table, preamble) == "本类别：符合"  # the category's result under its "any" rule
    # The group cell is one cell merged down every category; each category title one cell down its rows.
    group_cells = [r.cells[0]._tc for r in table.rows[1:-1]]
    assert all(tc is group_cells[0] for tc in group_cells) and table.rows[1].cells[0].text == "基本要求"
    titles = [r.cells[1].text for r in table.rows[1:-1]]
    assert titles.count("2、计量器具配置") == 3 and titles.count("6、系统运行效果") == 4


def test_a_criterion_for_data_centres_only_reads_not_applicable_for_an_enterprise():
    doc = _open(verification_record(make_dossier("emc-checklist-enterprise@1", "enterprise")))
    text = load("emc-checklist-enterprise@1").by_id["2.3"].text
    assert _result_cell_of(_checklist_table(doc), text) == "不适用（仅适用于数据中心）"
    assert _result_cell_of(_checklist_table(doc), load("emc-checklist-enterprise@1").by_id["2.1"].text) == "符合"


def test_disagreement_shows_each_expert_by_name_with_their_own_result():
    dossier = make_dossier("emc-checklist-enterprise@1", "enterprise", split="3.2")
    doc = _open(verification_record(dossier))
    cell = _result_cell_of(_checklist_table(doc), load("emc-checklist-enterprise@1").by_id["3.2"].text)
    assert f"{ZHANG}：符合" in cell and f"{LI}：不符合" in cell
    assert "意见不一致" in cell
    # Agreed criteria stay one word.
    assert _result_cell_of(_checklist_table(doc), load("emc-checklist-enterprise@1").by_id["3.1"].text) == "符合"


def test_the_last_row_is_the_conclusion_with_its_reasons():
    doc = _open(verification_record(make_dossier("emc-checklist-park@1", "park", split="1.1")))
    last = _checklist_table(doc).rows[-1].cells
    assert last[0].text == "核查结论" and last[0]._tc is last[1]._tc and last[2]._tc is last[3]._tc
    assert last[2].text.startswith("不通过")
    assert "理由：三级表具接入率不足80%" in last[2].text
    assert f"{LI} 不符合" in last[2].text and f"专家组组长：{ZHANG}" in last[2].text


def test_before_the_conclusion_the_row_says_so_and_the_record_is_marked_in_progress():
    doc = _open(verification_record(make_dossier("emc-checklist-park@1", "park", concluded=False)))
    assert _checklist_table(doc).rows[-1].cells[2].text == "专家组尚未作出核查结论。"
    assert any("核查进行中" in p.text for p in doc.paragraphs)


def test_the_park_table_is_annex_2_word_for_word():
    doc = _open(verification_record(make_dossier("emc-checklist-park@1", "park")))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[:2] == ["附表2", "上海市园区能源管理中心核查表"]
    texts = [r.cells[2].text for r in _checklist_table(doc).rows[1:]]
    for criterion in load("emc-checklist-park@1").by_id.values():
        assert criterion.text in texts


def test_the_front_names_the_application_the_visit_and_the_panel():
    doc = _open(verification_record(make_dossier("emc-checklist-enterprise@1", "enterprise")))
    facts = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert facts["申请编号"] == "42"
    assert facts["申报单位"].startswith("上海申闵精密制造有限公司")
    assert facts["核查时间"] == "2026-05-12 09:30" and facts["核查地点"] == "闵行区剑川路 100 号"
    assert facts["专家组"] == f"{ZHANG}（组长），上海节能技术服务中心；{LI}，同济大学"


def test_each_expert_has_a_sheet_with_results_scores_and_notes_and_a_signature():
    doc = _open(verification_record(make_dossier("emc-checklist-enterprise@1", "enterprise", split="3.2")))
    sheets = [t for t in doc.tables if t.rows[0].cells[0].text == "条款"]
    assert len(sheets) == 2
    li = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in sheets[1].rows[1:]}
    assert li["3.2"] == ["不符合", "8.50", f"{LI}对3.2的说明"]
    assert li["2.3"][0] == "不适用（仅适用于数据中心）"
    signed = [p.text for p in doc.paragraphs if p.text.startswith("签名人：")]
    assert signed == [f"签名人：{ZHANG}　提交时间：2026-05-12 11:30", f"签名人：{LI}　提交时间：2026-05-12 11:30"]


def test_signatures_and_the_photo_are_embedded_and_the_photo_fits_the_page():
    doc = _open(verification_record(make_dossier("emc-checklist-enterprise@1", "enterprise")))
    shapes = list(doc.inline_shapes)
    assert len(shapes) == 3  # two signatures, one photo
    widest = max(shapes, key=lambda s: s.width)
    assert widest.width <= TEXT_WIDTH and abs(widest.width - TEXT_WIDTH) < 1000  # scaled down to the text width
    assert abs(widest.width / widest.height - 2.0) < 0.01  # proportions kept
    caption = next(p.text for p in doc.paragraphs if p.text.startswith("照片1"))
    assert "条款 2.1" in caption and "拍摄时间 2026-05-12 10:05" in caption and "北纬31.02571°" in caption


def test_a_missing_image_is_noted_not_embedded():
    dossier = make_dossier("emc-checklist-enterprise@1", "enterprise")
    dossier["sheets"][0]["photos"][0]["data"] = None
    dossier["sheets"][1]["signature"] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # PNG by its magic, yet unreadable
    doc = _open(verification_record(dossier))
    assert len(doc.inline_shapes) == 1
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "签名图像缺失、无法读取或与记录不符" in text and "SHA-256 " + "ab" * 32 in text


def test_a4_with_the_binder_margins_and_every_run_carries_an_east_asian_font():
    doc = _open(verification_record(make_dossier("emc-checklist-enterprise@1", "enterprise")))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert [round(m.cm, 2) for m in (section.top_margin, section.bottom_margin)] == [2.54, 2.54]
    assert [round(m.cm, 2) for m in (section.left_margin, section.right_margin)] == [3.17, 3.17]
    runs = [r for p in doc.paragraphs for r in p.runs if r.text]
    runs += [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs
    assert {r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in runs if r.text} == {"黑体", "仿宋"}


def test_the_printed_words_are_the_checklists_own():
    assert {key: zh for key, (zh, _en) in RESULTS.items()} == RESULT_WORDS
