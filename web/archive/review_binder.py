"""The review binder (issue 13 item 5): what the desks decided on an application, in the order they decided it.

一、区级初审 (each pre-review record: the checks of seed 002 §五(一), the opinion, the points), 二、完整性审核与补充材料
(each checklist decision, each supplement request with its items and answers), 三、现场核查 (the panel's conclusion
and each evidence snapshot: every check's figure, threshold and result, and the latest one's pictures), 四、资金
(each award with the rule's arithmetic, who proposed and who decided, and the payment), 五、审计时间线 (every event of
the application). The verification record itself goes into the archive package beside it, as printed.

Page set-up and fonts as the application binder (附件4's A4, margins, 三号仿宋 contents, numbers at the bottom
right). No Flask here: it reads the stages, which only the shell may bring together.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from docx.enum.section import WD_SECTION
from docx.shared import Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from meters import charts, check_names, figures
from meters.models import EvidenceSnapshot
from review.models import Award, CompletenessReview, PanelConclusion, Payment, PreReview, SupplementRequest
from review.prereview import CHECKS
from storage import binding
from storage.documents import ERHAO, HEITI, east_asian_font, new_document
from workflow.accounts import SYSTEM, User
from workflow.beijing import beijing_time
from workflow.errors import NotFound
from workflow.models import AuditEvent
from workflow.visibility import get_visible, programme_definitions

SMALL = Pt(10.5)
FINDINGS = {"ok": "无问题", "problem": "发现问题", "not_checked": "未核查"}
STATUSES = {"present": "齐全", "missing": "缺失", "insufficient": "不足"}
AWARDS = {"proposed": "已拟定", "approved": "已复核通过", "sent_back": "已退回重拟", "paid": "已拨付"}
PARTS = ("一、区级初审", "二、完整性审核与补充材料", "三、现场核查", "四、资金", "五、审计时间线")


def _when(value: Any) -> str:
    return beijing_time(value)  # a naive time from SQLite is UTC, not the machine's zone


def _line(doc: Any, text: str, *, bold: bool = False) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.line_spacing = 1.25
    east_asian_font(paragraph, text, size=SMALL, bold=bold)


def _grid(doc: Any, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        east_asian_font(cell.paragraphs[0], text, font=HEITI, size=Pt(9), bold=True)
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            east_asian_font(cell.paragraphs[0], text, size=Pt(9))


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return user.username if user is not None else ""


def _of(session: Session, model: Any, application_id: int) -> list[Any]:
    """The application's rows of a record, oldest first."""
    return list(session.scalars(select(model).where(model.application_id == application_id).order_by(model.id)))


def _prereview(doc: Any, session: Session, application_id: int) -> None:
    rows = _of(session, PreReview, application_id)
    found = False
    for record in rows:
        found = True
        _line(doc, f"{_when(record.created_at)}　{_name(session, record.reviewer_id)}　{record.decision}", bold=True)
        _grid(
            doc,
            ("核查内容（种子002 §五(一)）", "结果"),
            [(zh, FINDINGS.get(str(record.checks.get(key)), "未核查")) for key, (zh, _en) in CHECKS.items()],
        )
        if record.opinion:
            _line(doc, f"意见：{record.opinion}")
        for n, point in enumerate(record.points or [], start=1):
            _line(doc, f"{n}. {point}")
    if not found:
        _line(doc, "（无初审记录）")


def _completeness(doc: Any, session: Session, application_id: int) -> None:
    reviews = _of(session, CompletenessReview, application_id)
    for review in reviews:
        _line(doc, f"{_when(review.created_at)}　{_name(session, review.reviewer_id)}　{review.decision}", bold=True)
        items = [
            (str(i.get("text", i.get("id"))), STATUSES.get(str(i.get("status")), ""), str(i.get("note") or ""))
            for i in review.items
        ]
        _grid(doc, ("材料", "状态", "说明"), items)
    requests = _of(session, SupplementRequest, application_id)
    for request in requests:
        _line(doc, f"补充材料通知 {_when(request.requested_at)}，期限 {request.due_date}", bold=True)
        answers = request.answers or {}
        _grid(
            doc,
            ("序号", "需补充的材料", "答复"),
            [(str(i["id"]), str(i["text"]), str(answers.get(str(i["id"]), ""))) for i in request.items],
        )
    if not reviews and not requests:
        _line(doc, "（无完整性审核记录）")


def _verification(doc: Any, session: Session, application_id: int) -> None:
    conclusion = session.scalars(
        select(PanelConclusion)
        .where(PanelConclusion.application_id == application_id)
        .order_by(PanelConclusion.id.desc())
    ).first()
    if conclusion is not None:
        result = {"pass": "通过", "fail": "不通过"}.get(conclusion.result, conclusion.result)
        _line(
            doc,
            f"专家组结论：{result}（{_when(conclusion.concluded_at)}，组长 {_name(session, conclusion.leader_id)}）",
            bold=True,
        )
        if conclusion.reasons:
            _line(doc, f"理由：{conclusion.reasons}")
    snapshots = _of(session, EvidenceSnapshot, application_id)
    for snapshot in snapshots:
        _line(
            doc,
            f"表计证据快照 {snapshot.id}：{snapshot.period_start} 至 {snapshot.period_end}，{_when(snapshot.taken_at)} "
            f"由 {snapshot.taken_by} 生成（{snapshot.reason}），规则 {snapshot.rules}，SHA-256 {snapshot.sha256}",
            bold=True,
        )
        rows = [
            (check_names.name_of(r["check"]), str(r.get("value") or "—"), str(r.get("threshold") or "—"),
             "符合" if r.get("passed") is True else "不符合" if r.get("passed") is False else "无从判断")
            for r in snapshot.results
        ]  # fmt: skip
        _grid(doc, ("核查项", "数值", "阈值", "结果"), rows)
    if snapshots:
        latest = snapshots[-1]
        for chart in sorted(figures.available(latest.figures or {})):
            doc.add_picture(io.BytesIO(charts.render(latest.figures, chart, "png")), width=binding.TEXT_WIDTH)
    if conclusion is None and not snapshots:
        _line(doc, "（无现场核查记录）")


def _funding(doc: Any, session: Session, application_id: int) -> None:
    awards = _of(session, Award, application_id)
    for award in awards:
        decided = _name(session, award.decided_by_id)
        _line(
            doc,
            f"{_when(award.proposed_at)}　拟定 {award.amount:,.2f} 元（规则核定 {award.computed:,.2f} 元）"
            f"　拟定：{_name(session, award.proposed_by_id)}　{AWARDS.get(award.status, award.status)}"
            + (f"　复核：{decided}" if decided else ""),
            bold=True,
        )
        _line(doc, f"计算：{award.basis.get('explained', '')}（本地设置）")
        if award.reason:
            _line(doc, f"下调理由：{award.reason}")
    payment = session.scalars(select(Payment).where(Payment.application_id == application_id)).one_or_none()
    if payment is not None:
        _line(doc, f"拨付 {payment.amount:,.2f} 元，起息日 {payment.value_date}，银行流水号 {payment.bank_reference}")
    if not awards and payment is None:
        _line(doc, "（无资金记录）")


def _timeline(doc: Any, session: Session, application_id: int) -> None:
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == application_id).order_by(AuditEvent.seq)
    )
    rows = [
        (
            str(e.seq),
            _when(e.occurred_at),
            e.actor,
            e.trigger or e.outcome,
            f"{e.from_state or ''} → {e.to_state or ''}",
        )
        for e in events
    ]
    _grid(doc, ("序号", "时间（北京）", "操作人", "操作", "状态"), rows)


def build(session: Session, application_id: int, out: BinaryIO) -> None:
    """Write the review binder of an application to `out`."""
    app = get_visible(session, SYSTEM, application_id)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    definition = programme_definitions(session)[app.programme_version_id]
    doc = new_document()
    binding.update_fields_on_open(doc)
    binding.toc_styles(doc)
    binding.cover(
        doc,
        [
            (definition.title.get("zh") or definition.code, HEITI, ERHAO, True),
            ("审核材料", HEITI, ERHAO, True),
            (app.organisation.name, HEITI, Pt(26), False),
            (app.project_name, HEITI, Pt(26), False),
        ],
    )
    binding.numbered_from_one(doc.add_section(WD_SECTION.NEW_PAGE))
    contents = binding.contents(doc)
    entries: list[tuple[int, str]] = []
    for part, write in zip(PARTS, (_prereview, _completeness, _verification, _funding, _timeline), strict=True):
        binding.page_break(doc)
        binding.heading(doc, part, 1, entries)
        write(doc, session, application_id)
    binding.fill_contents(contents, entries)
    doc.save(out)
