"""Completeness check: supplement requests (items, due date) and the applicant's item-by-item answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from review.models import SupplementRequest
from workflow import workdays
from workflow.db import utcnow
from workflow.engine import default_due_at
from workflow.errors import Problem
from workflow.registry import Context, effect, guard
from workflow.workdays import SHANGHAI


def normalise_items(raw: Any) -> list[dict[str, str]]:
    """Accept a list of strings or of {id, text}; number plain strings 1, 2, 3…"""
    if not isinstance(raw, list):
        return []
    items = []
    for i, item in enumerate(raw, start=1):
        if isinstance(item, str):
            items.append({"id": str(i), "text": item.strip()})
        elif isinstance(item, dict) and str(item.get("text", "")).strip():
            items.append({"id": str(item.get("id") or i), "text": str(item["text"]).strip()})
        else:
            items.append({"id": str(i), "text": ""})
    return items


def open_request(ctx: Context) -> SupplementRequest | None:
    return ctx.session.scalars(
        select(SupplementRequest)
        .where(SupplementRequest.application_id == ctx.application.id, SupplementRequest.answered_at.is_(None))
        .order_by(SupplementRequest.id.desc())
        .limit(1)
    ).one_or_none()


WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


@guard("supplement_request_valid")
def supplement_request_valid(ctx: Context) -> Iterator[Problem]:
    raw = ctx.payload.get("items")
    if raw is not None:
        items = normalise_items(raw)
        if not items:
            yield Problem("items", "empty", "请至少列出一项需补充的材料")
        for n, item in enumerate(items, start=1):
            if not item["text"]:
                yield Problem(f"items[{n - 1}]", "empty", f"第 {n} 项没有内容")
        ids = [i["id"] for i in items]
        if len(set(ids)) != len(ids):
            yield Problem("items", "duplicate_id", "两项材料的编号（id）相同")
    due = ctx.payload.get("due_date")
    if due is not None:
        try:
            day = dt.date.fromisoformat(str(due))
        except ValueError:
            yield Problem("due_date", "invalid_date", f"截止日期应为日期（如 2026-12-31），不是“{due}”")
            return
        today = utcnow().astimezone(SHANGHAI).date()
        if day <= today:
            yield Problem("due_date", "not_in_future", f"截止日期 {day} 须晚于今天（{today}，上海时间）")
        if not workdays.is_working_day(day):
            # Issue 9 (7a): a deadline falls on a working day; weekends and the configured holidays are not.
            why = "周末" if day.weekday() >= 5 else "法定节假日"
            message = f"截止日期 {day}（{WEEKDAYS_ZH[day.weekday()]}）是{why}，不是工作日：请选择工作日"
            yield Problem("due_date", "not_working_day", message)


def due_date_of(ctx: Context) -> dt.date:
    """The date the reviewer named, else the programme's default (e.g. 10 working days from today)."""
    raw = ctx.payload.get("due_date")
    if raw:
        return dt.date.fromisoformat(str(raw))
    spec = ctx.definition.deadlines[ctx.transition.dest]
    return (default_due_at(spec, utcnow()) - dt.timedelta(seconds=1)).astimezone(SHANGHAI).date()


@effect("open_supplement_request")
def open_supplement_request(ctx: Context) -> None:
    ctx.session.add(
        SupplementRequest(
            application_id=ctx.application.id,
            items=normalise_items(ctx.payload["items"]),
            due_date=due_date_of(ctx),
            requested_by_id=ctx.actor.id,
            requested_seq=ctx.event_seq,
        )
    )


@guard("supplement_items_answered")
def supplement_items_answered(ctx: Context) -> Iterator[Problem]:
    request = open_request(ctx)
    if request is None:
        yield Problem("answers", "no_open_request", "没有待答复的补充材料要求")
        return
    answers = ctx.payload.get("answers")
    if answers is None:
        return  # the required-field check already names it
    if not isinstance(answers, dict):
        yield Problem("answers", "invalid", "answers 应将每项的编号对应为答复")
        return
    for item in request.items:
        if not str(answers.get(item["id"], "")).strip():
            message = f"第 {item['id']} 项（{item['text']}）尚未答复"
            yield Problem(f"answers.{item['id']}", "unanswered", message)
    known = {item["id"] for item in request.items}
    for key in answers:
        if key not in known:
            yield Problem(f"answers.{key}", "unknown_item", f"补充材料要求中没有第 {key} 项")


@effect("record_supplement_answers")
def record_supplement_answers(ctx: Context) -> None:
    request = open_request(ctx)
    if request is not None:
        request.answers = {str(k): str(v) for k, v in ctx.payload["answers"].items()}
        request.answered_at = utcnow()
