"""Completeness check (材料完备性审核): a per-document checklist from the programme and the application's facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from applications.attachments import required_categories, rules_for
from applications.models import CATEGORIES, Attachment
from review.models import CompletenessReview, SupplementRequest
from workflow import workdays
from workflow.definitions import Definition
from workflow.engine import default_due_at
from workflow.errors import Problem
from workflow.models import Application
from workflow.registry import Context, effect, guard

STATUSES: tuple[str, ...] = ("present", "missing", "insufficient")
# Marks that say a required item is not in order (shown as 缺失 and 不符合要求): no confirming complete over them.
WANTING: dict[str, str] = {"missing": "缺失", "insufficient": "不符合要求"}
# The item a data centre adds on versions before the `[attachments]` table (v1, 附表1 2.3): not an upload, but the
# platform connection the form declares. From @2 the document `dc_platform_confirmation` proves it instead.
DATA_CENTRE_PLATFORM = "data_centre_platform"


def document_checklist(session: Session, application: Application, definition: Definition) -> list[dict[str, Any]]:
    """One item per required document (from the programme and the form's facts), with what is on file now.

    Each item: {"id", "text", "text_en", "present": bool, "attachment_id", "filename", "version", "why", "why_en"}
    (`why`: the fact that makes the document required, empty when the programme always requires it).
    """
    current = {
        row.category: row
        for row in session.scalars(
            select(Attachment).where(Attachment.application_id == application.id, Attachment.superseded_at.is_(None))
        )
    }
    items: list[dict[str, Any]] = []
    for category in required_categories(definition, application.kind, application.form):
        zh, en = CATEGORIES[category]
        row = current.get(category)
        why_zh, why_en = _why(category, application, definition)
        items.append(
            {
                "id": category,
                "text": zh,
                "text_en": en,
                "present": row is not None,
                "attachment_id": row.id if row else None,
                "filename": row.filename if row else None,
                "version": row.version if row else None,
                "why": why_zh,
                "why_en": why_en,
            }
        )
    if rules_for(definition).platform_declared_on_form and application.kind == "data_centre":
        # 附表1 2.3: a data centre must be connected to the municipal data-centre monitoring platform.
        connected = bool(application.form.get("dc_platform_connected"))
        items.append(
            {
                "id": DATA_CENTRE_PLATFORM,
                "text": "接入“上海市数据中心能耗在线监测平台”的证明",
                "text_en": "Proof of connection to the municipal data-centre monitoring platform",
                "present": connected,
                "attachment_id": None,
                "filename": None,
                "version": None,
                "why": "数据中心须接入市数据中心能耗在线监测平台；申报表"
                + ("已声明接入" if connected else "未声明接入"),
                "why_en": "a data centre must be connected to the municipal platform; the form "
                + ("declares it connected" if connected else "does not declare it connected"),
            }
        )
    return items


def _why(category: str, application: Application, definition: Definition) -> tuple[str, str]:
    if category == "special_audit_report":
        total = application.form.get("total_investment_wan")
        threshold = rules_for(definition).special_audit_from_wan
        return (
            f"项目总投资 {total} 万元，达到 {threshold} 万元",
            f"total investment {total} 万元 reaches {threshold} 万元",
        )
    if category == "dc_platform_confirmation":
        # Seed 002 §四(二)(2): "数据中心的能源管理中心须完成接入市经济信息化委“上海市数据中心能耗在线监测平台”".
        return (
            "数据中心的能源管理中心须完成接入市经济信息化委“上海市数据中心能耗在线监测平台”",
            "a data centre's EMC must be connected to the municipal data-centre energy monitoring platform",
        )
    return "", ""


def supplement_state(definition: Definition) -> str | None:
    """The state a supplement request puts the application in (where its deadline runs), if the programme has one."""
    return next((t.dest for t in definition.transitions if "open_supplement_request" in t.effects), None)


def default_due_date(definition: Definition, state: str, now: dt.datetime) -> dt.date | None:
    """The last day to answer when the reviewer names none (e.g. 10 working days); None if `state` has none."""
    spec = definition.deadlines.get(state)
    if spec is None:
        return None
    # The deadline falls at the midnight that ends the last day; the day before it is the one people read.
    return workdays.today_in_shanghai(default_due_at(spec, now) - dt.timedelta(seconds=1))


def latest_review(session: Session, application_id: int) -> CompletenessReview | None:
    return session.scalars(
        select(CompletenessReview)
        .where(CompletenessReview.application_id == application_id)
        .order_by(CompletenessReview.id.desc())
        .limit(1)
    ).one_or_none()


def supplement_requests(session: Session, application_id: int) -> list[SupplementRequest]:
    """Every supplement request of the application, oldest first, with the answers once given."""
    return list(
        session.scalars(
            select(SupplementRequest)
            .where(SupplementRequest.application_id == application_id)
            .order_by(SupplementRequest.id)
        )
    )


@guard("completeness_record_valid")
def completeness_record_valid(ctx: Context) -> Iterator[Problem]:
    """`documents`, when given, maps checklist item ids to {status, note}."""
    documents = ctx.payload.get("documents")
    if documents is None:
        return
    if not isinstance(documents, dict):
        yield Problem("documents", "invalid", "documents 应将每项清单材料对应为 {status, note}")
        return
    known = {item["id"] for item in document_checklist(ctx.session, ctx.application, ctx.definition)}
    for item_id, entry in documents.items():
        if item_id not in known:
            yield Problem(f"documents.{item_id}", "unknown_item", f"“{item_id}”不在本申报的材料清单上")
            continue
        status = _status(entry)
        if status not in STATUSES:
            message = f"材料 {item_id} 的状态“{status}”无效，应为 {'、'.join(STATUSES)} 之一"
            yield Problem(f"documents.{item_id}.status", "invalid_status", message)


@guard("documents_all_in_order")
def documents_all_in_order(ctx: Context) -> Iterator[Problem]:
    """Confirming complete (材料完备) is refused while the reviewer's own checklist, sent with the decision, marks a
    required item 缺失 or 不符合要求: the decision may not contradict its record (seed 002 §五(一) "材料完备")."""
    documents = ctx.payload.get("documents")
    if not isinstance(documents, dict):
        return  # nothing marked: what is on file stands (required_attachments checks it)
    for item in document_checklist(ctx.session, ctx.application, ctx.definition):
        status = _status(documents.get(item["id"]))
        if status in WANTING:
            message = (
                f"“{item['text']}”在审核清单中标为“{WANTING[status]}”：材料完备须每项必需材料均已提供且符合要求，"
                "请要求补充材料或不予通过"
            )
            yield Problem(f"documents.{item['id']}", f"marked_{status}", message)


def _status(entry: Any) -> Any:
    return entry.get("status") if isinstance(entry, dict) else entry


@effect("record_completeness_review")
def record_completeness_review(ctx: Context) -> None:
    raw = ctx.payload.get("documents")
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    items = []
    for item in document_checklist(ctx.session, ctx.application, ctx.definition):
        entry = given.get(item["id"])
        status = _status(entry)
        note = str(entry.get("note", "")).strip() if isinstance(entry, dict) else ""
        items.append(
            {
                "id": item["id"],
                "text": item["text"],
                "status": status or ("present" if item["present"] else "missing"),
                "note": note,
                "attachment_id": item["attachment_id"],
            }
        )
    ctx.session.add(
        CompletenessReview(
            application_id=ctx.application.id,
            reviewer_id=ctx.actor.id,
            decision=ctx.trigger,
            items=items,
            event_seq=ctx.event_seq,
        )
    )
