"""The expert panel: the pool, a draw anyone can reproduce, declarations of interest, replacements, the site visit.

A draw is `random.Random(f"{seed}:{pool_digest}").sample(usernames, size)` over the eligible experts' usernames
in sorted order, where `pool_digest` is the SHA-256 of the pool's canonical JSON. The seed and the pool are
stored with the draw (`PanelDraw`), so `reproduce` gives the same members again (CPython's seeding of `Random`
from a string and its `sample` are stable across 3.x releases). The first drawn leads.

An expert sees the file only after declaring no conflict of interest (`workflow.visibility`'s `assigned`
scope); one who declares a conflict leaves the panel and a replacement is drawn at once from those still eligible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from review.models import ExpertProfile, PanelDraw, SiteVisit
from review.pool import NOTE_MAX, eligible_pool, invalid, text_field, valid_uscc
from review.seats import PANEL_STATE, in_panel_state
from review.site_visit import visit_json
from workflow import audit, outbox
from workflow.accounts import SYSTEM, Actor, User
from workflow.db import as_utc, db, iso_utc, utcnow
from workflow.definitions import canonical_json
from workflow.engine import command_target, resolve_actor
from workflow.errors import NotFound, Problem, WorkflowError
from workflow.models import Application, Assignment
from workflow.visibility import get_visible, visible_or_known, visible_or_not_found
from workflow.workdays import SHANGHAI

# Who draws panels, and who arranges the visit with the applicant.
DRAWERS = frozenset({"admin", "agency_coordinator"})
VISIT_SCHEDULERS = frozenset({"agency_coordinator"})
# Outbox topic: the people named in the message hear of it (notifications.notify_people).
PANEL_TOPIC = "panel_notice"
DEFAULT_SIZE = 3
SEED_MAX = 64  # the column's width
PLACE_MAX = 300


class PanelConflict(WorkflowError):
    """The panel is not in a state for this: one is already drawn, or the declaration is already made."""

    status = 409
    code = "panel_conflict"
    title = "Panel conflict"


# --- the draw -------------------------------------------------------------------------------------------------


def pool_digest(pool: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical_json(pool)).hexdigest()


def draw_members(seed: str, digest: str, usernames: Iterable[str], size: int) -> list[str]:
    """`size` usernames in draw order; the same seed, pool and size always give the same list."""
    return random.Random(f"{seed}:{digest}").sample(sorted(usernames), size)


def reproduce(draw: PanelDraw) -> list[str]:
    """The members this draw's seed and stored pool give (compare with `draw.drawn`)."""
    return draw_members(draw.seed, pool_digest(draw.pool), [p["username"] for p in draw.pool], draw.size)


def verify_draw(session: Session, draw_id: int) -> tuple[bool, str]:
    """Recompute one draw from its stored seed and pool: (matches, what was found)."""
    draw = session.get(PanelDraw, draw_id)
    if draw is None:
        return False, f"no draw {draw_id}"
    where = f"application {draw.application_id} draw {draw.number} ({draw.reason})"
    digest = pool_digest(draw.pool)
    if digest != draw.pool_digest:
        return False, f"{where}: the stored pool hashes to {digest}, not the recorded {draw.pool_digest}"
    again = reproduce(draw)
    if again != list(draw.drawn):
        return False, f"{where}: seed and pool give {', '.join(again)}, but {', '.join(draw.drawn)} was recorded"
    return (
        True,
        f"{where}: {', '.join(again) or 'nobody'} reproduced from seed {draw.seed} and {len(draw.pool)} in pool",
    )


def draws_of(session: Session, application_id: int) -> list[PanelDraw]:
    return list(
        session.scalars(select(PanelDraw).where(PanelDraw.application_id == application_id).order_by(PanelDraw.number))
    )


def _checked_seed(seed: str | None) -> str:
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        return secrets.token_hex(16)
    if not isinstance(seed, str) or len(seed.strip()) > SEED_MAX:
        raise invalid(Problem("seed", "invalid", f"seed is text of 1 to {SEED_MAX} characters"))
    return seed.strip()


def _panel_now(session: Session, application_id: int) -> list[Assignment]:
    return [
        a
        for a in session.scalars(
            select(Assignment)
            .where(
                Assignment.application_id == application_id,
                Assignment.role == "expert",
                Assignment.active.is_(True),
            )
            .order_by(Assignment.is_leader.desc(), Assignment.id)
        )
        if a.conflict is not True
    ]


def _seat(session: Session, application_id: int, user_id: int, leader: bool) -> Assignment:
    """An expert on the panel, not yet declared (an earlier row for the pair is reused: one per person)."""
    row = session.scalars(
        select(Assignment).where(Assignment.application_id == application_id, Assignment.user_id == user_id)
    ).one_or_none()
    if row is None:
        row = Assignment(application_id=application_id, user_id=user_id, role="expert")
        session.add(row)
    row.role, row.is_leader, row.active = "expert", leader, True
    row.declared_at, row.conflict, row.declaration_note = None, None, None
    return row


def _record_draw(
    session: Session,
    who: Actor,
    app: Application,
    *,
    reason: str,
    seed: str,
    size: int,
    pool: list[dict[str, Any]],
    excluded: list[dict[str, Any]],
    leader_first: bool,
    replaced: Assignment | None = None,
    exclude_same_district: bool = False,
    request_id: str | None = None,
) -> PanelDraw:
    digest = pool_digest(pool)
    drawn = draw_members(seed, digest, [p["username"] for p in pool], size)
    number = (session.scalar(select(func.max(PanelDraw.number)).where(PanelDraw.application_id == app.id)) or 0) + 1
    ids = {p["username"]: p["user_id"] for p in pool}
    draw = PanelDraw(
        application_id=app.id,
        number=number,
        reason=reason,
        seed=seed,
        size=size,
        pool=pool,
        pool_digest=digest,
        excluded=excluded,
        drawn=drawn,
        replaced_user_id=replaced.user_id if replaced else None,
        drawn_by_id=who.id,
    )
    session.add(draw)
    for n, username in enumerate(drawn):
        _seat(session, app.id, ids[username], leader=leader_first and n == 0)
    session.flush()
    event = audit.note(
        session,
        who,
        app,
        "panel_drawn",
        payload={
            "draw": number,
            "reason": reason,
            "seed": seed,
            "pool_digest": digest,
            "pool_size": len(pool),
            "excluded": len(excluded),
            "size": size,
            "members": drawn,
            "leader": drawn[0] if leader_first and drawn else None,
            "replaced": replaced.user.username if replaced else None,
            "exclude_same_district": exclude_same_district,
        },
        request_id=request_id,
    )
    draw.event_seq = event.seq
    _notify(session, app.id, event.seq, list(ids[u] for u in drawn), "panel_assigned")
    return draw


def _notify(session: Session, application_id: int, event_seq: int, user_ids: list[int], kind: str) -> None:
    if user_ids:
        message = {"application_id": application_id, "event_seq": event_seq, "user_ids": sorted(user_ids), "kind": kind}
        outbox.publish(session, PANEL_TOPIC, message, application_id=application_id)


def draw_panel(
    actor: Actor | int,
    application_id: int,
    size: int = DEFAULT_SIZE,
    seed: str | None = None,
    exclude_same_district: bool = False,
    request_id: str | None = None,
) -> PanelDraw:
    """Draw the application's panel from the experts eligible for it; the first drawn leads.

    On a panel left short (a conflict with nobody eligible to replace the leaver), the draw fills the empty seats
    only, up to the first draw's size, once the pool has grown."""
    with db.transaction() as session:
        who, app = command_target(session, actor, application_id, roles=DRAWERS, doing="draw an expert panel")
        in_panel_state(session, app, who, "a panel is drawn")
        seated = _panel_now(session, app.id)
        empty_seats = _empty_seats(session, app.id, len(seated)) if seated else None
        if empty_seats == 0:
            names = ", ".join(a.user.username for a in seated)
            raise PanelConflict(
                f"application {app.id} already has a full panel ({names}); a member who declares a conflict is replaced"
            )
        chosen_seed = _checked_seed(seed)
        pool, excluded = eligible_pool(session, app, exclude_same_district)
        most = min(len(pool), empty_seats) if empty_seats else len(pool)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= most:
            what = f"the empty seats ({empty_seats}) and " if empty_seats else ""
            detail = (
                f"size must be from 1 to {most}, {what}the experts eligible now; got {size}"
                if pool
                else f"no expert is eligible for application {app.id} ({len(excluded)} left out): add experts first"
            )
            raise invalid(Problem("size", "out_of_range" if pool else "empty_pool", detail))
        draw = _record_draw(
            session,
            who,
            app,
            reason="refill" if seated else "initial",
            seed=chosen_seed,
            size=size,
            pool=pool,
            excluded=excluded,
            leader_first=not any(a.is_leader for a in seated),
            exclude_same_district=exclude_same_district,
            request_id=request_id,
        )
    outbox.kick()
    return draw


def _empty_seats(session: Session, application_id: int, seated: int) -> int:
    """Seats of the first draw that nobody fills now."""
    first = session.scalar(
        select(PanelDraw.size)
        .where(PanelDraw.application_id == application_id, PanelDraw.reason == "initial")
        .order_by(PanelDraw.number.desc())
        .limit(1)
    )
    return max(0, (first or seated) - seated)


# --- declarations ----------------------------------------------------------------------------------------------


@dataclass
class Declaration:
    """What a declaration did: the expert's assignment, and for a conflict the replacement drawn (if any)."""

    assignment: Assignment
    replacement: PanelDraw | None = None
    short: bool = False  # a conflict left a seat empty: nobody eligible was left


def declare(
    actor: Actor | int,
    application_id: int,
    conflict: bool,
    note: str | None = None,
    exclude_same_district: bool = False,
    request_id: str | None = None,
) -> Declaration:
    """The expert declares on conflicts of interest before seeing the file; a conflict draws a replacement."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        # The expert cannot see the file before declaring: what opens it to them is their own assignment.
        mine = session.scalars(
            select(Assignment).where(
                Assignment.application_id == application_id,
                Assignment.user_id == who.id,
                Assignment.role == "expert",
                Assignment.active.is_(True),
            )
        ).one_or_none()
        app = get_visible(session, SYSTEM, application_id, lock=True) if mine is not None else None
        if mine is None or app is None:
            raise NotFound(f"application {application_id} not found")
        session.refresh(mine)  # as it stands under the lock: a declaration made meanwhile is seen
        if not mine.active:
            raise NotFound(f"application {application_id} not found")
        if mine.declared_at is not None:
            raise PanelConflict(f"you declared on application {application_id} already; a declaration is final")
        in_panel_state(session, app, who, "a declaration is made")
        text, note_problem = text_field(note, "note", NOTE_MAX, required=bool(conflict))
        if note_problem:
            if note_problem.code == "required":
                note_problem = Problem("note", "required", "say what the conflict of interest is (note)")
            raise invalid(note_problem)
        mine.declared_at, mine.conflict, mine.declaration_note = utcnow(), bool(conflict), text or None
        led = mine.is_leader
        if conflict:
            mine.active, mine.is_leader = False, False
        session.flush()
        audit.note(
            session,
            who,
            app,
            "declared",
            payload={"conflict": bool(conflict), "note": text, "leader": led},
            request_id=request_id,
        )
        result = Declaration(mine)
        if conflict:
            result.replacement, result.short = _replace(session, app, mine, led, exclude_same_district, request_id)
    outbox.kick()
    return result


def _replace(
    session: Session,
    app: Application,
    leaver: Assignment,
    led: bool,
    exclude_same_district: bool,
    request_id: str | None,
) -> tuple[PanelDraw | None, bool]:
    """Draw one expert for the seat a conflict left, from those eligible now (members and conflicts excluded)."""
    pool, excluded = eligible_pool(session, app, exclude_same_district)
    if not pool:
        # Nobody is left to draw: the panel stays short and the coordinator sees it on the panel card. A panel
        # still needs one leader to conclude: the next member in draw order takes the lead.
        remaining = sorted(_panel_now(session, app.id), key=lambda a: a.id)
        successor = remaining[0] if led and remaining else None
        if successor is not None:
            successor.is_leader = True
            session.flush()
        audit.note(
            session,
            SYSTEM,
            app,
            "panel_short",
            payload={
                "replaced": leaver.user.username,
                "excluded": len(excluded),
                "members": len(remaining),
                "leader": successor.user.username if successor else None,
            },
            request_id=request_id,
        )
        return None, True
    draw = _record_draw(
        session,
        SYSTEM,  # drawn on the declaration, by no one's choice
        app,
        reason="replacement",
        seed=secrets.token_hex(16),
        size=1,
        pool=pool,
        excluded=excluded,
        leader_first=led,
        replaced=leaver,
        exclude_same_district=exclude_same_district,
        request_id=request_id,
    )
    return draw, False


# --- the site visit --------------------------------------------------------------------------------------------


def schedule_visit(
    actor: Actor | int,
    application_id: int,
    visit_at: dt.datetime,
    place: str,
    note: str = "",
    request_id: str | None = None,
) -> SiteVisit:
    """Set (or move) when and where the panel visits; the applicant's people and the panel hear of it.

    A time without a zone is Shanghai time."""
    if visit_at.tzinfo is None:
        visit_at = visit_at.replace(tzinfo=SHANGHAI)
    with db.transaction() as session:
        who, app = command_target(
            session, actor, application_id, roles=VISIT_SCHEDULERS, doing="schedule the site visit"
        )
        in_panel_state(session, app, who, "the site visit is scheduled")
        place_text, place_problem = text_field(place, "place", PLACE_MAX, required=True)
        note_text, note_problem = text_field(note, "note", NOTE_MAX, required=False)
        problems = [p for p in (place_problem, note_problem) if p]
        when = as_utc(visit_at)
        if when <= utcnow():
            problems.insert(
                0, Problem("visit_at", "not_future", f"the visit must be in the future, not {when:%Y-%m-%d %H:%M}Z")
            )
        if problems:
            raise invalid(*problems)
        visit = session.scalars(select(SiteVisit).where(SiteVisit.application_id == app.id)).one_or_none()
        previous = as_utc(visit.visit_at).isoformat() if visit is not None else None
        if visit is None:
            visit = SiteVisit(application_id=app.id)
            session.add(visit)
        visit.visit_at, visit.place, visit.note = when, place_text, note_text
        visit.scheduled_by_id, visit.scheduled_at = who.id, utcnow()
        session.flush()
        event = audit.note(
            session,
            who,
            app,
            "visit_scheduled",
            payload={"visit_at": when.isoformat(), "place": place_text, "note": note_text, "previous": previous},
            request_id=request_id,
        )
        applicants = session.scalars(
            select(User.id).where(
                User.role == "applicant", User.organisation_id == app.organisation_id, User.active.is_(True)
            )
        )
        people = {*applicants, *(a.user_id for a in _panel_now(session, app.id))}
        _notify(session, app.id, event.seq, sorted(people), "site_visit")
    outbox.kick()
    return visit


# --- what the API and the pages show ---------------------------------------------------------------------------


def draw_json(draw: PanelDraw, usernames: dict[int, str]) -> dict[str, Any]:
    return {
        "number": draw.number,
        "reason": draw.reason,
        "seed": draw.seed,
        "pool_digest": draw.pool_digest,
        "pool_size": len(draw.pool),
        "excluded": len(draw.excluded),
        "size": draw.size,
        "drawn": list(draw.drawn),
        "replaced": usernames.get(draw.replaced_user_id) if draw.replaced_user_id else None,
        "drawn_at": iso_utc(draw.created_at),
    }


def panel_view(session: Session, actor: Actor, application_id: int) -> dict[str, Any]:
    """The panel as `actor` may see it: members (and who left on a conflict), the draws, seats unfilled, the visit.

    The applicant sees the visit only: who sits on the panel is not told to the party it examines."""
    app = visible_or_not_found(session, actor, application_id)
    visit = visit_json(
        session.scalars(select(SiteVisit).where(SiteVisit.application_id == app.id)).one_or_none(), session
    )
    if actor.role == "applicant":
        if visit is not None:
            visit.pop("steps")  # the panel's working notes reach the applicant in the record, after the conclusion
        return {"application_id": app.id, "members": [], "draws": [], "size": 0, "short": 0, "visit": visit}
    rows = list(
        session.scalars(
            select(Assignment)
            .where(Assignment.application_id == app.id, Assignment.role == "expert")
            .order_by(Assignment.active.desc(), Assignment.is_leader.desc(), Assignment.id)
        )
    )
    employers = dict(
        session.execute(
            select(ExpertProfile.user_id, ExpertProfile.employer_name).where(
                ExpertProfile.user_id.in_([a.user_id for a in rows])
            )
        ).all()
    )
    members = [
        {
            "username": a.user.username,
            "name": a.user.display_name or a.user.username,
            "employer": employers.get(a.user_id, ""),
            "leader": a.is_leader,
            "active": a.active and a.conflict is not True,
            "declared": a.declared_at is not None,
            "declared_at": iso_utc(a.declared_at),
            "conflict": a.conflict,
        }
        for a in rows
        if a.active or a.conflict is True
    ]
    draws = draws_of(session, app.id)
    usernames = {a.user_id: a.user.username for a in rows}
    initial = [d for d in draws if d.reason == "initial"]
    size = initial[-1].size if initial else 0
    seated = sum(1 for m in members if m["active"])
    return {
        "application_id": app.id,
        "members": members,
        "draws": [draw_json(d, usernames) for d in draws],
        "size": size,
        "short": max(0, size - seated),
        "visit": visit,
    }


def assignments_of(session: Session, expert: Actor) -> list[dict[str, Any]]:
    """An expert's panel seats, those awaiting a declaration first, with what they need to judge a conflict.

    Before declaring (or after leaving on a conflict) the expert may know whose file it is, not see it: those come
    through `visible_or_known`, which the visibility module decides like the rest."""
    rows = list(
        session.scalars(
            select(Assignment)
            .where(Assignment.user_id == expert.id, Assignment.role == "expert")
            .where((Assignment.active.is_(True)) | (Assignment.conflict.is_(True)))
            .order_by(Assignment.id.desc())
        )
    )
    if not rows:
        return []
    apps = {
        a.id: a
        for a in session.scalars(
            visible_or_known(session, expert).where(Application.id.in_([r.application_id for r in rows]))
        )
    }
    visits = {
        v.application_id: v for v in session.scalars(select(SiteVisit).where(SiteVisit.application_id.in_(list(apps))))
    }
    out = []
    for row in rows:
        app = apps.get(row.application_id)
        if app is None:
            continue
        out.append(
            {
                "application_id": app.id,
                "project_name": app.project_name,
                "organisation": app.organisation.name,
                "organisation_uscc": app.organisation.uscc,
                "district": app.district,
                "service_company": (app.form.get("service_company_name") or "").strip() or None,
                "service_company_uscc": valid_uscc(app.form.get("service_company_uscc")),
                "state": app.state,
                "leader": row.is_leader,
                "declared": row.declared_at is not None,
                "declared_at": iso_utc(row.declared_at),
                "conflict": row.conflict,
                "pending": row.active and row.declared_at is None and app.state == PANEL_STATE,
                "visit": visit_json(visits.get(app.id), session) if row.active and row.conflict is False else None,
            }
        )
    out.sort(key=lambda a: (not a["pending"], a["conflict"] is True))
    return out


__all__ = [
    "Declaration",
    "PanelConflict",
    "assignments_of",
    "declare",
    "draw_members",
    "draw_panel",
    "panel_view",
    "pool_digest",
    "reproduce",
    "schedule_visit",
    "verify_draw",
]
