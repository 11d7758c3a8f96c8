"""Guards and rules that belong to no stage: four eyes, the application window and the panel leader."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from workflow.db import utcnow
from workflow.errors import Problem
from workflow.models import Assignment, AuditEvent
from workflow.registry import Context, guard, rule
from workflow.round_models import LateAdmission
from workflow.workdays import today_in_shanghai


@guard("four_eyes", about_actor=True)
def four_eyes(ctx: Context, trigger: str) -> Iterator[Problem]:
    """The actor must not be the one who fired `trigger` last on this application."""
    last = ctx.session.execute(
        select(AuditEvent.actor_id, AuditEvent.actor)
        .where(
            AuditEvent.application_id == ctx.application.id,
            AuditEvent.outcome == "transition",
            AuditEvent.trigger == trigger,
        )
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if last is not None and last.actor_id == ctx.actor.id:
        yield Problem(
            "actor",
            "four_eyes",
            f"{ctx.trigger} needs a second officer: {last.actor} fired {trigger} and may not also {ctx.trigger}",
        )


@guard("within_application_window")
def within_application_window(ctx: Context) -> Iterator[Problem]:
    """Today (Shanghai date) lies in the version's window, both days included (seed 000 §二(四) "于2022年9月30日前…
    提交申请"). Read from `workflow.guards.utcnow`, so a test can set the day. After the close, an application an
    administrator admitted late (with a recorded reason) passes."""
    window = ctx.definition.window
    if window is None:
        return
    today = today_in_shanghai(utcnow())
    if window.contains(today):
        return
    late = window.closes is not None and today > window.closes
    if late and ctx.session.scalar(select(LateAdmission.id).where(LateAdmission.application_id == ctx.application.id)):
        return  # an administrator admitted this late submission, the reason in the audit chain (workflow.admissions)
    opens = f"{window.opens} 起" if window.opens else ""
    closes = f"至 {window.closes} 止" if window.closes else ""
    span = f"{opens}{closes}（含首尾两日，上海时间）"
    title = ctx.definition.title.get("zh") or ctx.definition.code
    if window.closes is not None and today > window.closes:
        code, why = "window_closed", f"已于 {window.closes} 截止"
    else:
        code, why = "window_not_open", f"自 {window.opens} 起方可提交"
    message = f"{title}本轮申报时间为 {span}；今天是 {today}，{why}"
    yield Problem("window", code, message)


@rule("panel_leader")
def panel_leader(ctx: Context) -> str | None:
    """Only the assigned panel leader concludes for the panel."""
    leader = ctx.session.scalar(
        select(Assignment.id).where(
            Assignment.application_id == ctx.application.id,
            Assignment.user_id == ctx.actor.id,
            Assignment.active.is_(True),
            Assignment.is_leader.is_(True),
        )
    )
    if leader is None:
        return f"only the expert panel's leader may {ctx.trigger}; {ctx.actor.username} is not the leader"
    return None
