"""The site visit's day and its two steps (seed 002 §五(二)): the panel's sheets and conclusion open on the visit's
day, because the verification happens at the site; the panel notes what it heard and found at each step.

Seed 002 §五(二) "核查流程如下：（1）申报单位汇报……并进行现场演示。（2）现场勘察提问……（3）形成核查结果".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from review.models import SiteVisit
from review.seats import in_panel_state, member_of
from workflow import audit, workdays
from workflow.accounts import Actor, User
from workflow.db import as_utc, db, iso_utc, utcnow
from workflow.engine import command_target
from workflow.errors import Forbidden, InvalidInput, Problem, ProblemsError
from workflow.registry import Context, guard

STEP_MAX = 4000
# The visit's steps in the seed's order and words: (1) the applicant presents and demonstrates, (2) the experts
# inspect and ask; (3), the result, is the checklist and the conclusion.
STEPS: dict[str, tuple[str, str]] = {
    "presentation": ("汇报与现场演示", "Presentation and live demonstration"),
    "inspection": ("勘察提问", "Inspection and questions"),
}


class BeforeVisitDay(ProblemsError):
    """Sheets and conclusions wait for the visit's day (the problem names it)."""

    status = 409
    code = "before_visit_day"
    title = "Before the site visit"


def visit_of(session: Session, application_id: int) -> SiteVisit | None:
    return session.scalars(select(SiteVisit).where(SiteVisit.application_id == application_id)).one_or_none()


def visit_day(visit: SiteVisit) -> dt.date:
    """The visit's date in Shanghai."""
    return workdays.today_in_shanghai(as_utc(visit.visit_at))


def not_open_yet(session: Session, application_id: int) -> Problem | None:
    """Why sheets and conclusions are not open yet (no visit scheduled, or before its day), or None."""
    visit = visit_of(session, application_id)
    if visit is None:
        return Problem(
            "visit",
            "no_visit",
            "尚未安排现场核查：核查表和核查结论自现场核查当日起开放（no site visit is scheduled yet）",
        )
    day, today = visit_day(visit), workdays.today_in_shanghai(utcnow())
    if today < day:
        return Problem(
            "visit",
            "before_visit_day",
            f"现场核查定于 {day}（北京时间），核查表和核查结论自当日起开放，今天是 {today}"
            f"（the sheets and the conclusion open on the visit's day, {day})",
        )
    return None


def opening(session: Session, application_id: int) -> dict[str, Any]:
    """When the sheets open, for the tablet page: the visit's day, and whether that day has come."""
    visit = visit_of(session, application_id)
    if visit is None:
        return {"day": None, "open": False}
    return {"day": visit_day(visit).isoformat(), "open": not_open_yet(session, application_id) is None}


def steps_json(visit: SiteVisit | None) -> dict[str, Any]:
    """Each step with its words and what the panel noted (empty until noted)."""
    notes = {"presentation": visit.presentation_notes, "inspection": visit.inspection_notes} if visit else {}
    return {key: {"label": zh, "label_en": en, "notes": notes.get(key) or ""} for key, (zh, en) in STEPS.items()} | {
        "noted_by": visit.steps_noted_by.username if visit and visit.steps_noted_by else None,
        "noted_at": as_utc(visit.steps_noted_at).isoformat() if visit and visit.steps_noted_at else None,
    }


def visit_json(visit: SiteVisit | None, session: Session) -> dict[str, Any] | None:
    if visit is None:
        return None
    by = session.get(User, visit.scheduled_by_id) if visit.scheduled_by_id else None
    return {
        "visit_at": iso_utc(visit.visit_at),
        "place": visit.place,
        "note": visit.note,
        "scheduled_by": by.username if by else None,
        "scheduled_at": iso_utc(visit.scheduled_at),
        "steps": steps_json(visit),
    }


def record_steps(
    actor: Actor | int,
    application_id: int,
    presentation: Any,
    inspection: Any,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The panel leader notes what the panel heard and found at each step, from the visit's day (audited);
    returns the steps as noted (`steps_json`)."""
    texts: dict[str, str] = {}
    problems = []
    for key, raw in (("presentation", presentation), ("inspection", inspection)):
        if raw is None:
            raw = ""
        if not isinstance(raw, str) or len(raw) > STEP_MAX:
            zh = STEPS[key][0]
            problems.append(Problem(key, "invalid", f"“{zh}”的记录应为不超过{STEP_MAX}字的文字"))
        else:
            texts[key] = raw.strip()
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    with db.transaction() as session:
        who, app = command_target(session, actor, application_id)
        seat = member_of(session, app.id, who.id) if who.role == "expert" else None
        if seat is None or not seat.is_leader:
            raise Forbidden("只有专家组组长记录现场核查各环节（only the panel leader notes the visit's steps）")
        in_panel_state(session, app, who, "the visit's steps are noted")
        closed = not_open_yet(session, app.id)
        if closed is not None:
            raise BeforeVisitDay(closed.message, [closed])
        visit = visit_of(session, app.id)
        assert visit is not None  # not_open_yet answered otherwise
        visit.presentation_notes, visit.inspection_notes = texts["presentation"], texts["inspection"]
        visit.steps_noted_by_id, visit.steps_noted_at = who.id, utcnow()
        session.flush()
        audit.note(session, who, app, "visit_steps", payload=dict(texts), request_id=request_id)
        return steps_json(visit)


@guard("site_visit_day_reached")
def site_visit_day_reached(ctx: Context) -> Iterator[Problem]:
    """The panel concludes at the site: on or after the scheduled visit's day (Shanghai time)."""
    closed = not_open_yet(ctx.session, ctx.application.id)
    if closed is not None:
        yield closed


@guard("site_visit_steps_recorded")
def site_visit_steps_recorded(ctx: Context) -> Iterator[Problem]:
    """The verification record states both steps of the visit with what the panel noted at each."""
    visit = visit_of(ctx.session, ctx.application.id)
    noted = {"presentation": visit.presentation_notes, "inspection": visit.inspection_notes} if visit else {}
    for key, (zh, en) in STEPS.items():
        if not (noted.get(key) or "").strip():
            yield Problem(
                f"visit.{key}",
                "step_not_noted",
                f"现场核查“{zh}”环节尚无专家组记录，请组长先记录（the panel has noted nothing for '{en}'）",
            )
