"""Returns for correction (退回修改) as points: the reviewer lists them, the applicant answers each on resubmitting.

Every published version returns with a comment alone (`requires = ["comment"]`) and its definitions may not
change, so the return and its answers are recorded by standing rules (workflow.registry) that recognise the
transition by its shape: a return sends the application back to an editable state other than the first; the
resubmission is the applicant's move out of that state with a new revision.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from review.models import ReturnRequest, SupplementRequest
from review.prereview import points_of
from workflow.db import table_of, utcnow
from workflow.definitions import Definition, TransitionDef
from workflow.errors import Problem
from workflow.models import Application
from workflow.registry import Context, standing_effect, standing_guard

_return_requests = table_of(ReturnRequest)

MAX_ANSWER = 4000
Request = TypeVar("Request", ReturnRequest, SupplementRequest)


def return_states(definition: Definition) -> frozenset[str]:
    """The states a return leaves the application in (`returned`): editable, and not where it started."""
    return frozenset(t.dest for t in definition.transitions if is_return(definition, t))


def is_return(definition: Definition, transition: TransitionDef) -> bool:
    """A desk's decision that hands the application back to the applicant to correct."""
    return (
        transition.dest in definition.editable
        and transition.dest != definition.initial
        and "applicant" not in transition.roles
    )


def is_resubmission(definition: Definition, transition: TransitionDef, state: str) -> bool:
    """The applicant's move out of a returned state that submits a new revision (not a withdrawal)."""
    return (
        state in return_states(definition)
        and "applicant" in transition.roles
        and "record_revision" in transition.effects
    )


def items_of(points: list[str]) -> list[dict[str, str]]:
    return [{"id": str(n), "text": text} for n, text in enumerate(points, start=1)]


def _newest_open(session: Session, model: type[Request], application_id: int) -> Request | None:
    """The newest request of its kind not yet answered."""
    return session.scalars(
        select(model)
        .where(model.application_id == application_id, model.answered_at.is_(None))
        .order_by(model.id.desc())
        .limit(1)
    ).one_or_none()


def open_return(session: Session, application_id: int) -> ReturnRequest | None:
    """The newest return not yet answered by a resubmission."""
    return _newest_open(session, ReturnRequest, application_id)


def open_supplement(session: Session, application_id: int) -> SupplementRequest | None:
    """The newest supplement request not yet answered by a `supply`."""
    return _newest_open(session, SupplementRequest, application_id)


def points_to_answer(
    session: Session, application: Application, definition: Definition, trigger: str
) -> list[dict[str, str]]:
    """The points `trigger` answers now, one answer each: a supplement request's items for a `supply`, the
    return's points for a resubmission; none for any other decision."""
    transition = definition.transition(trigger, application.state)
    if transition is None:
        return []
    if "answers" in transition.requires:
        request = open_supplement(session, application.id)
        return list(request.items) if request else []
    if is_resubmission(definition, transition, application.state):
        returned = open_return(session, application.id)
        return list(returned.items) if returned else []
    return []


@standing_guard
def return_points_valid(ctx: Context) -> Iterator[Problem]:
    """A return's `points` are text (a list, or lines); a resubmission's `answers`, when given, answer each point."""
    if is_return(ctx.definition, ctx.transition):
        points = ctx.payload.get("points")
        if points is not None and not isinstance(points, (list, str)):
            yield Problem("points", "invalid", "points 应为文字列表（每条一项）")
        return
    if not is_resubmission(ctx.definition, ctx.transition, ctx.from_state) or "answers" not in ctx.payload:
        return  # the published versions resubmit without answers: the page asks for them, the API may omit them
    answers = ctx.payload["answers"]
    if not isinstance(answers, dict):
        yield Problem("answers", "invalid", "answers 应将每个退回要点的编号对应为答复")
        return
    returned = open_return(ctx.session, ctx.application.id)
    items = returned.items if returned is not None else []
    if not items:
        yield Problem("answers", "no_open_return", "没有待答复的退回修改要点")
        return
    for item in items:
        answer = answers.get(item["id"])
        if not str(answer if answer is not None else "").strip():
            yield Problem(f"answers.{item['id']}", "unanswered", f"第 {item['id']} 项（{item['text']}）尚未答复")
        elif len(str(answer)) > MAX_ANSWER:
            yield Problem(f"answers.{item['id']}", "too_long", f"第 {item['id']} 项的答复超过 {MAX_ANSWER} 字")
    known = {item["id"] for item in items}
    for key in answers:
        if key not in known:
            yield Problem(f"answers.{key}", "unknown_item", f"退回修改要点中没有第 {key} 项")


def answered_return(session: Session, application_id: int, payload: dict[str, Any]) -> dict[str, Any] | None:
    """What a resubmission's revision keeps: the open return's points, each beside the answer the command gives."""
    raw = payload.get("answers")
    if not isinstance(raw, dict):
        return None  # resubmitted without answers (an API client of the published versions): nothing to keep
    returned = open_return(session, application_id)
    if returned is None:
        return None
    answers = raw
    return {
        "return_id": returned.id,
        "trigger": returned.trigger,
        "items": [
            {"id": item["id"], "text": item["text"], "answer": str(answers.get(item["id"], "")).strip()}
            for item in returned.items
        ],
    }


@standing_effect
def record_return_points(ctx: Context) -> None:
    """A return opens its points; the resubmission closes them with the answers (none, from an older client)."""
    if is_return(ctx.definition, ctx.transition):
        ctx.session.execute(
            insert(_return_requests).values(
                application_id=ctx.application.id,
                trigger=ctx.trigger,
                items=items_of(points_of(ctx.payload, ctx.trigger)),
                comment=str(ctx.payload.get("comment") or "").strip(),
                returned_by_id=ctx.actor.id,
                returned_seq=ctx.event_seq,
                returned_at=utcnow(),
            )
        )
    elif is_resubmission(ctx.definition, ctx.transition, ctx.from_state):
        # One UPDATE, no load: fire() holds the application's row lock, and only the newest return is open.
        raw = ctx.payload.get("answers")
        ctx.session.execute(
            update(ReturnRequest)
            .where(ReturnRequest.application_id == ctx.application.id, ReturnRequest.answered_at.is_(None))
            .values(
                answers={str(k): str(v).strip() for k, v in raw.items()} if isinstance(raw, dict) else {},
                answered_at=utcnow(),
                answered_seq=ctx.event_seq,
            )
            .execution_options(synchronize_session=False)
        )
