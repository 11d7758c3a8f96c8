"""The site-verification record (现场核查记录) as .docx, built from a plain dossier (no stage imported).

The record opens with the application, the visit and the panel; then the checklist as the printed 附表1 / 附表2
gives it (类别 | 验收标准 | 核查结果, the 基本要求 group merged down the categories, a final 核查结论 row), with the
panel's result per criterion: one word when the experts agree, each expert's own result beside their name when they
do not (dissent is kept, never averaged). Each expert's own sheet follows with their signature, then the photos
taken on site, then the conclusion. Page set-up and fonts as `storage.documents` (A4, the binder's margins, w:eastAsia).

`review.record.dossier` assembles the dossier from the database; its shape is the TypedDicts below.
"""

from __future__ import annotations

import io
from typing import Any, TypedDict

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Length, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from storage.documents import FANGSONG, HEITI, docx_bytes, east_asian_font, new_document

XIAOER, SIHAO, XIAOSI, WUHAO = Pt(18), Pt(14), Pt(12), Pt(10.5)  # 小二, 四号, 小四, 五号
TEXT_WIDTH = Cm(21.0 - 2 * 3.17)  # A4 less the binder's left and right margins
PHOTO_MAX_HEIGHT = Cm(12)  # a portrait photo stays on its page with its caption
SIGNATURE_BOX = (Cm(5), Cm(2))
# 类别 (group, category) | 验收标准 | 核查结果: together the text width.
COLUMNS = (Cm(1.6), Cm(2.8), Cm(6.4), Cm(3.86))
SHEET_COLUMNS = (Cm(1.4), Cm(3.4), Cm(1.6), Cm(8.26))

# The printed table's words for what an expert records.
RESULT_WORDS = {"conform": "符合", "nonconform": "不符合", "not_applicable": "不适用"}
CONCLUSION_WORDS = {"pass": "通过", "fail": "不通过"}
NOT_SUBMITTED = "未提交"


class ExpertResult(TypedDict):
    name: str
    result: str | None  # conform | nonconform | not_applicable; None: no submitted result


class EvidenceLine(TypedDict):
    check: str
    name: str  # the check's Chinese name (the code is the data's key, not what a reader reads)
    value: str | None
    threshold: str | None
    passed: bool | None


class CriterionRow(TypedDict, total=False):
    id: str
    text: str
    only_for: str  # "" when it applies to this applicant; else the kinds it applies to, e.g. "数据中心"
    agreement: str  # agree | disagree | pending
    results: list[ExpertResult]
    evidence: list[EvidenceLine]  # the meter-evidence figures beside it (the consensus's, from one snapshot)


class EvidencePicture(TypedDict):
    caption: str
    png: bytes


class EvidencePart(TypedDict):
    snapshot_id: int
    period: str  # e.g. 2025-12-01 至 2026-11-30
    taken_at: str
    rules: str
    sha256: str
    pictures: list[EvidencePicture]


class CategoryRow(TypedDict):
    id: str
    title: str
    preamble: str
    rule: str  # all | any
    agreement: str
    results: list[ExpertResult]
    criteria: list[CriterionRow]


class ChecklistPart(TypedDict):
    annex: str
    title: str
    group: str
    conclusion_label: str
    categories: list[CategoryRow]


class ApplicationPart(TypedDict):
    number: str
    project_name: str
    unit: str
    uscc: str
    kind: str  # in words, e.g. 工业用能企业
    district: str


class VisitStep(TypedDict):
    label: str  # the seed's words: 汇报与现场演示, 勘察提问
    notes: str  # what the panel noted ("" if nothing)


class VisitPart(TypedDict, total=False):
    at: str
    place: str
    note: str
    steps: list[VisitStep]  # seed 002 §五(二) (1), (2), in order


class Member(TypedDict):
    name: str
    leader: bool
    employer: str


class Answer(TypedDict):
    result: str | None
    score: str | None
    note: str


class Photo(TypedDict):
    criterion: str
    data: bytes | None  # None: the bytes are missing or not what was recorded
    sha256: str
    taken_at: str
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None


class Sheet(TypedDict):
    name: str
    leader: bool
    submitted_at: str  # "" while not signed and submitted
    signed_name: str
    signature: bytes | None
    answers: dict[str, Answer]  # by criterion id
    photos: list[Photo]


class ConclusionPart(TypedDict):
    result: str  # pass | fail
    reasons: str
    leader: str
    concluded_at: str
    agreement: str  # of the experts' overall findings
    findings: list[ExpertResult]


class Dossier(TypedDict):
    application: ApplicationPart
    visit: VisitPart | None
    panel: list[Member]
    draws: list[str]  # one line per draw of the panel, in order
    checklist: ChecklistPart
    sheets: list[Sheet]
    conclusion: ConclusionPart | None
    generated_at: str
    evidence: EvidencePart | None


# --- small pieces -------------------------------------------------------------------------------------------------


def _para(container: Any, text: str = "", **style: Any) -> Paragraph:
    paragraph: Paragraph = container.add_paragraph()
    if text:
        east_asian_font(paragraph, text, **{"size": XIAOSI, **style})
    return paragraph


def _heading(doc: Any, text: str) -> None:
    paragraph = _para(doc, text, font=HEITI, size=SIHAO, bold=True)
    paragraph.paragraph_format.space_before = Pt(12)
    paragraph.paragraph_format.keep_with_next = True


def _cell(cell: _Cell, lines: list[str] | str, *, bold: bool = False, center: bool = False) -> None:
    """Write lines into a cell, one paragraph each, in 五号."""
    for i, line in enumerate([lines] if isinstance(lines, str) else lines):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        east_asian_font(paragraph, line, font=HEITI if bold else FANGSONG, size=WUHAO, bold=bold)


def _table(doc: Any, rows: int, widths: tuple[Length, ...]) -> Table:
    table: Table = doc.add_table(rows=rows, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    return table


def _repeat_header(table: Table) -> None:
    """The first row is printed again at the top of each page the table runs onto."""
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(flag)


def _word(result: str | None) -> str:
    return RESULT_WORDS.get(result, result) if result else NOT_SUBMITTED


def _panel_result(agreement: str, results: list[ExpertResult]) -> list[str]:
    """One word when all agree; otherwise each expert's own result beside their name."""
    if not results:
        return ["—"]
    if agreement == "agree":
        return [_word(results[0]["result"])]
    lines = [f"{r['name']}：{_word(r['result'])}" for r in results]
    return ["意见不一致：", *lines] if agreement == "disagree" else lines


def _not_applicable(only_for: str) -> str:
    return f"不适用（仅适用于{only_for}）"


def _fit(data: bytes, box: tuple[Length, Length]) -> tuple[Length, Length]:
    """The image's own size, scaled down (never up) to fit the box, keeping its proportions."""
    image = Image.from_blob(data)
    width, height = int(image.width), int(image.height)
    scale = min(1.0, box[0] / max(width, 1), box[1] / max(height, 1))
    return Emu(max(int(width * scale), 1)), Emu(max(int(height * scale), 1))


def _picture(paragraph: Paragraph, data: bytes | None, box: tuple[Length, Length]) -> bool:
    """Embed the image scaled into `box`; False (and nothing embedded) when the bytes are no usable image."""
    if not data:
        return False
    try:
        width, height = _fit(data, box)
        paragraph.add_run().add_picture(io.BytesIO(data), width=width, height=height)
    except Exception:  # python-docx knows JPEG and PNG; anything else stays out of the record, noted
        return False
    return True


def _location(photo: Photo) -> str:
    lat, lon = photo["latitude"], photo["longitude"]
    if lat is None or lon is None:
        return ""
    where = f"{'北纬' if lat >= 0 else '南纬'}{abs(lat):.5f}°，{'东经' if lon >= 0 else '西经'}{abs(lon):.5f}°"
    return where + (f"（精度约 {photo['accuracy_m']:.0f} 米）" if photo["accuracy_m"] is not None else "")


# --- the parts ----------------------------------------------------------------------------------------------------


def _facts(doc: Any, rows: list[tuple[str, str]]) -> None:
    table = _table(doc, len(rows), (Cm(3.2), Emu(TEXT_WIDTH - Cm(3.2))))
    for (label, value), row in zip(rows, table.rows, strict=True):
        _cell(row.cells[0], label, bold=True)
        _cell(row.cells[1], value or "—")


def _front(doc: Any, dossier: Dossier) -> None:
    checklist, app, visit = dossier["checklist"], dossier["application"], dossier["visit"]
    _para(doc, checklist["annex"], font=HEITI, size=XIAOSI)
    title = _para(doc, checklist["title"], font=HEITI, size=XIAOER, bold=True)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subtitle = _para(doc, "现场核查记录")
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if dossier["conclusion"] is None:
        note = _para(doc, "（专家组尚未作出核查结论：本记录为核查进行中的版本）", size=WUHAO)
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    panel = [
        f"{m['name']}{'（组长）' if m['leader'] else ''}{'，' + m['employer'] if m['employer'] else ''}"
        for m in dossier["panel"]
    ]
    _facts(
        doc,
        [
            ("申请编号", app["number"]),
            ("项目名称", app["project_name"]),
            ("申报单位", f"{app['unit']}（统一社会信用代码：{app['uscc']}）" if app["uscc"] else app["unit"]),
            ("申报类型", app["kind"]),
            ("所属地区", app["district"]),
            ("核查时间", visit["at"] if visit else "尚未安排"),
            ("核查地点", visit["place"] if visit else "尚未安排"),
            # Seed 002 §五(二): the steps of the visit, each with what the panel noted.
            *(
                (f"（{n}）{step['label']}", step["notes"] or "（专家组尚未记录）")
                for n, step in enumerate(visit.get("steps", []) if visit else [], start=1)
            ),
            ("专家组", "；".join(panel) if panel else "尚未组成"),
            *([("专家抽取", "；".join(dossier["draws"]))] if dossier["draws"] else []),
        ],
    )


def _checklist_table(doc: Any, dossier: Dossier) -> None:
    """附表1 / 附表2 as printed, one row per criterion so each carries its own 核查结果."""
    checklist, conclusion = dossier["checklist"], dossier["conclusion"]
    rows_of = [(1 if c["preamble"] else 0) + len(c["criteria"]) or 1 for c in checklist["categories"]]
    table = _table(doc, 1 + sum(rows_of) + 1, COLUMNS)
    _repeat_header(table)
    header = table.rows[0].cells
    _cell(header[0].merge(header[1]), "类别", bold=True, center=True)
    _cell(header[2], "验收标准", bold=True, center=True)
    _cell(header[3], "核查结果", bold=True, center=True)
    first = row = 1
    for category, count in zip(checklist["categories"], rows_of, strict=True):
        last = row + count - 1
        _cell(table.cell(row, 1).merge(table.cell(last, 1)), category["title"])
        if category["preamble"]:
            # The category's own result under its rule ("一种或多种效果": one effect suffices).
            _cell(table.cell(row, 2), category["preamble"])
            said = _panel_result(category["agreement"], category["results"])
            _cell(table.cell(row, 3), [f"本类别：{said[0]}"] if len(said) == 1 else ["本类别：", *said])
            row += 1
        for criterion in category["criteria"]:
            _cell(table.cell(row, 2), criterion["text"])
            if criterion["only_for"]:
                _cell(table.cell(row, 3), _not_applicable(criterion["only_for"]))
            else:
                _cell(table.cell(row, 3), _panel_result(criterion["agreement"], criterion["results"]))
                # The figures the panel had beside the criterion, under its result (those with something judged).
                for line in criterion.get("evidence", []):
                    if line["value"] is not None:
                        east_asian_font(table.cell(row, 3).add_paragraph(), _evidence_words(line), size=WUHAO)
            row += 1
        row = last + 1
    _cell(table.cell(first, 0).merge(table.cell(row - 1, 0)), checklist["group"], center=True)
    label = table.cell(row, 0).merge(table.cell(row, 1))
    _cell(label, checklist["conclusion_label"], bold=True, center=True)
    value = table.cell(row, 2).merge(table.cell(row, 3))
    if conclusion is None:
        _cell(value, "专家组尚未作出核查结论。")
        return
    lines = [CONCLUSION_WORDS.get(conclusion["result"], conclusion["result"])]
    if conclusion["reasons"]:
        lines.append(f"理由：{conclusion['reasons']}")
    if conclusion["agreement"] == "disagree":
        lines.append("各专家意见：" + "；".join(f"{f['name']} {_word(f['result'])}" for f in conclusion["findings"]))
    lines.append(f"专家组组长：{conclusion['leader']}　{conclusion['concluded_at']}")
    _cell(value, lines[0], bold=True)
    for line in lines[1:]:
        east_asian_font(value.add_paragraph(), line, size=WUHAO)


PASSED_WORDS = {True: "达到", False: "未达到", None: "无从判断"}


def _evidence_words(line: EvidenceLine) -> str:
    threshold = line["threshold"] or "—"
    return f"计量证据 {line['name']}：{line['value'] or '—'}（阈值 {threshold}，{PASSED_WORDS[line['passed']]}）"


def _evidence(doc: Any, dossier: Dossier) -> None:
    """The snapshot the figures beside the criteria come from, and its pictures."""
    part = dossier.get("evidence")
    if part is None:
        _para(doc, "计量数据证据：核查时尚无证据快照。", size=WUHAO)
        return
    _para(
        doc,
        f"计量数据证据：证据快照 {part['snapshot_id']}，数据期间 {part['period']}，生成于 {part['taken_at']}，"
        f"规则 {part['rules']}，SHA-256 {part['sha256']}。",
        size=WUHAO,
    )
    for picture in part["pictures"]:
        holder = doc.add_paragraph()
        holder.alignment = WD_ALIGN_PARAGRAPH.CENTER
        holder.paragraph_format.keep_with_next = True
        _picture(holder, picture["png"], (TEXT_WIDTH, PHOTO_MAX_HEIGHT))
        caption = _para(doc, picture["caption"], size=WUHAO)
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _sheets(doc: Any, dossier: Dossier) -> None:
    _heading(doc, "二、各专家核查表")
    if not dossier["sheets"]:
        _para(doc, "尚无专家核查表。")
    criteria = [c for cat in dossier["checklist"]["categories"] for c in cat["criteria"]]
    for sheet in dossier["sheets"]:
        who = f"专家：{sheet['name']}{'（组长）' if sheet['leader'] else ''}"
        _para(doc, who, font=HEITI, bold=True).paragraph_format.keep_with_next = True
        if not sheet["submitted_at"]:
            _para(doc, "尚未签名提交：结果以签名提交的核查表为准，此处不列草稿。")
            continue
        table = _table(doc, 1 + len(criteria), SHEET_COLUMNS)
        _repeat_header(table)
        for cell, text in zip(table.rows[0].cells, ("条款", "核查结果", "评分", "说明"), strict=True):
            _cell(cell, text, bold=True, center=True)
        for criterion, row in zip(criteria, table.rows[1:], strict=True):
            _cell(row.cells[0], criterion["id"], center=True)
            answer = sheet["answers"].get(criterion["id"])
            if criterion["only_for"]:
                _cell(row.cells[1], _not_applicable(criterion["only_for"]))
                continue
            _cell(row.cells[1], _word(answer["result"] if answer else None))
            _cell(row.cells[2], (answer["score"] or "") if answer else "", center=True)
            _cell(row.cells[3], answer["note"] if answer else "")
        signed = _para(doc, "签名：")
        if not _picture(signed, sheet["signature"], SIGNATURE_BOX):
            east_asian_font(signed, "（签名图像缺失、无法读取或与记录不符）", size=XIAOSI)
        _para(doc, f"签名人：{sheet['signed_name']}　提交时间：{sheet['submitted_at']}")


def _photos(doc: Any, dossier: Dossier) -> None:
    _heading(doc, "三、现场照片")
    photos = [(sheet["name"], p) for sheet in dossier["sheets"] if sheet["submitted_at"] for p in sheet["photos"]]
    if not photos:
        _para(doc, "无现场照片。")
    for n, (name, photo) in enumerate(photos, 1):
        picture = doc.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.keep_with_next = True
        embedded = _picture(picture, photo["data"], (TEXT_WIDTH, PHOTO_MAX_HEIGHT))
        parts = [f"照片{n}", f"条款 {photo['criterion']}", f"专家 {name}"]
        if photo["taken_at"]:
            parts.append(f"拍摄时间 {photo['taken_at']}")
        if where := _location(photo):
            parts.append(f"拍摄位置 {where}")
        if not embedded:
            parts.append(f"（图像缺失、无法读取或与记录不符，SHA-256 {photo['sha256']}）")
        caption = _para(doc, "　".join(parts), size=WUHAO)
        caption.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _conclusion(doc: Any, dossier: Dossier) -> None:
    _heading(doc, "四、核查结论")
    conclusion = dossier["conclusion"]
    if conclusion is None:
        _para(doc, "专家组尚未作出核查结论。")
    else:
        _para(doc, f"核查结论：{CONCLUSION_WORDS.get(conclusion['result'], conclusion['result'])}", bold=True)
        _para(doc, f"理由：{conclusion['reasons'] or '—'}")
        _para(doc, f"专家组组长：{conclusion['leader']}")
        _para(doc, f"日期：{conclusion['concluded_at']}")
    _para(doc, f"本记录于 {dossier['generated_at']} 由系统依据各专家签名提交的核查表生成。", size=WUHAO)


def verification_record(dossier: Dossier) -> bytes:
    """The whole record as .docx bytes."""
    doc = new_document()
    _front(doc, dossier)
    _heading(doc, f"一、{dossier['checklist']['title']}（{dossier['checklist']['annex']}）")
    _checklist_table(doc, dossier)
    _evidence(doc, dossier)
    _sheets(doc, dossier)
    _photos(doc, dossier)
    _conclusion(doc, dossier)
    return docx_bytes(doc)
