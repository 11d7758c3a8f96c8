"""Guards and rules that belong to no stage: four eyes and the panel leader."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from workflow.errors import Problem
from workflow.models import Assignment, AuditEvent
from workflow.registry import Context, guard, rule


@guard("four_eyes")
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
