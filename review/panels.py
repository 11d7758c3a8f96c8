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
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forms.uscc import problem as uscc_problem
from review.models import ExpertProfile, ExpertRelationship, PanelDraw, SiteVisit
from workflow import audit, outbox
from workflow.accounts import DISTRICTS, SYSTEM, SYSTEM_ROLE, Actor, Organisation, User
from workflow.db import as_utc, db, utcnow
from workflow.definitions import canonical_json
from workflow.engine import allowed_triggers, resolve_actor
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound, Problem, WorkflowError
from workflow.models import Application, Assignment
from workflow.visibility import get_visible, programme_definitions, visible_applications

PANEL_STATE = "site_verification"
# Who keeps the pool (the CLI acts as the system), who draws panels, and who arranges the visit with the applicant.
POOL_KEEPERS = frozenset({"admin", "agency_coordinator", SYSTEM_ROLE})
DRAWERS = frozenset({"admin", "agency_coordinator"})
VISIT_SCHEDULERS = frozenset({"agency_coordinator"})
# Outbox topic: the people named in the message hear of it (notifications.notify_people).
PANEL_TOPIC = "panel_notice"
DEFAULT_SIZE = 3
SEED_MAX = 64  # the column's width
NAME_MAX = 200
PLACE_MAX = 300
NOTE_MAX = 2000
SPECIALITY_MAX = 100
SPECIALITIES_MAX = 20

# Why an expert is left out of a draw, in the order they are checked.
SAME_EMPLOYER = "same_employer"
SERVICE_COMPANY = "service_company"
DECLARED_RELATIONSHIP = "declared_relationship"
SAME_DISTRICT = "same_district"
DECLARED_CONFLICT = "declared_conflict"
ALREADY_ON_PANEL = "already_on_panel"
REASONS = (SAME_EMPLOYER, SERVICE_COMPANY, DECLARED_RELATIONSHIP, SAME_DISTRICT, DECLARED_CONFLICT, ALREADY_ON_PANEL)

SHANGHAI = ZoneInfo("Asia/Shanghai")


class PanelConflict(WorkflowError):
    """The panel is not in a state for this: one is already drawn, or the declaration is already made."""

    status = 409
    code = "panel_conflict"
    title = "Panel conflict"


def _invalid(*problems: Problem) -> InvalidInput:
    return InvalidInput("; ".join(p.message for p in problems), list(problems))


def _role_required(who: Actor, roles: frozenset[str], what: str) -> None:
    if who.role not in roles:
        raise Forbidden(f"role '{who.role}' may not {what}")


# --- the pool -------------------------------------------------------------------------------------------------


def checked_uscc(value: Any, name: str) -> tuple[str, Problem | None]:
    """A USCC as stored (upper case, trimmed), or the problem with it."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if not code:
        return code, Problem(name, "required", f"{name} is required (a unified social credit code)")
    why = uscc_problem(code)
    if why:
        return code, Problem(name, "invalid_uscc", f"'{value}' is not a valid unified social credit code: {why}")
    return code, None


def _expert_user(session: Session, username: str, name: str = "username") -> tuple[User | None, Problem | None]:
    user = session.scalars(select(User).where(User.username == (username or "").strip())).one_or_none()
    if user is None:
        return None, Problem(name, "unknown_user", f"there is no account '{username}'")
    if user.role != "expert":
        return None, Problem(name, "not_expert", f"'{username}' is a {user.role}, not an expert")
    if not user.active:
        return None, Problem(name, "inactive", f"the account '{username}' is deactivated")
    return user, None


def _text(value: Any, name: str, maximum: int, required: bool) -> tuple[str, Problem | None]:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        return "", Problem(name, "wrong_type", f"{name} must be text")
    if required and not text:
        return "", Problem(name, "required", f"{name} is required")
    if len(text) > maximum:
        return text, Problem(name, "too_long", f"{name} has at most {maximum} characters, not {len(text)}")
    return text, None


def _specialities(values: Iterable[Any]) -> tuple[list[str], Problem | None]:
    out: list[str] = []
    for raw in values:
        if not isinstance(raw, str):
            return out, Problem("specialities", "wrong_type", "each speciality is text")
        value = raw.strip()
        if len(value) > SPECIALITY_MAX:
            return out, Problem("specialities", "too_long", f"a speciality has at most {SPECIALITY_MAX} characters")
        if value and value not in out:
            out.append(value)
    if len(out) > SPECIALITIES_MAX:
        return out, Problem("specialities", "too_many", f"at most {SPECIALITIES_MAX} specialities, not {len(out)}")
    return out, None


def profile_json(profile: ExpertProfile) -> dict[str, Any]:
    return {
        "username": profile.user.username,
        "name": profile.user.display_name or profile.user.username,
        "employer_uscc": profile.employer_uscc,
        "employer_name": profile.employer_name,
        "district": profile.district,
        "specialities": list(profile.specialities),
        "active": profile.active and profile.user.active,
    }


def add_expert(
    actor: Actor | int,
    username: str,
    employer_uscc: str,
    employer_name: str,
    district: str,
    specialities: Iterable[Any] = (),
    request_id: str | None = None,
) -> ExpertProfile:
    """Put an expert account in the pool (or update its profile): employer for conflicts, district, specialities."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        _role_required(who, POOL_KEEPERS, "keep the expert pool")
        user, user_problem = _expert_user(session, username)
        code, uscc_found = checked_uscc(employer_uscc, "employer_uscc")
        name, name_problem = _text(employer_name, "employer_name", NAME_MAX, required=True)
        district_problem = None
        if district not in DISTRICTS:
            district_problem = Problem(
                "district", "unknown_district", f"'{district}' is not a district; one of {', '.join(DISTRICTS)}"
            )
        wanted, speciality_problem = _specialities(specialities)
        problems = [p for p in (user_problem, uscc_found, name_problem, district_problem, speciality_problem) if p]
        if problems:
            raise _invalid(*problems)
        assert user is not None
        profile = session.scalars(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one_or_none()
        outcome = "expert_updated" if profile is not None else "expert_added"
        if profile is None:
            profile = ExpertProfile(user_id=user.id)
            session.add(profile)
        profile.employer_uscc, profile.employer_name, profile.district = code, name, district
        profile.specialities, profile.active = wanted, True  # re-adding an expert puts them back in the pool
        session.flush()
        audit.append(
            session,
            actor=who,
            outcome=outcome,
            application_id=None,
            payload={
                "user": user.username,
                "employer_uscc": code,
                "employer_name": name,
                "district": district,
                "specialities": wanted,
            },
            request_id=request_id,
        )
        session.refresh(profile, ["user"])
        return profile


def relate(
    actor: Actor | int,
    expert_username: str,
    uscc: str,
    name: str = "",
    note: str = "",
    request_id: str | None = None,
) -> ExpertRelationship:
    """Record a tie between an expert and an organisation: the expert is never drawn for it (either party's USCC).

    An expert declares their own ties; an administrator or coordinator may record one for them."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        if who.role == "expert":
            if who.username != (expert_username or "").strip():
                raise Forbidden("an expert declares only their own relationships")
        else:
            _role_required(who, POOL_KEEPERS, "record an expert's relationships")
        user, user_problem = _expert_user(session, expert_username)
        code, uscc_found = checked_uscc(uscc, "uscc")
        org_name, name_problem = _text(name, "name", NAME_MAX, required=False)
        text, note_problem = _text(note, "note", NOTE_MAX, required=False)
        problems = [p for p in (user_problem, uscc_found, name_problem, note_problem) if p]
        if problems:
            raise _invalid(*problems)
        assert user is not None
        row = session.scalars(
            select(ExpertRelationship).where(ExpertRelationship.expert_id == user.id, ExpertRelationship.uscc == code)
        ).one_or_none()
        if row is None:
            row = ExpertRelationship(expert_id=user.id, uscc=code)
            session.add(row)
        row.name, row.note = org_name, text
        session.flush()
        audit.append(
            session,
            actor=who,
            outcome="relationship",
            application_id=None,
            payload={"user": user.username, "uscc": code, "name": org_name, "note": text},
            request_id=request_id,
        )
        return row


def experts(session: Session, district: str | None = None, speciality: str | None = None) -> list[ExpertProfile]:
    """The pool's profiles by username (active or not), optionally of one district or with a speciality."""
    query = select(ExpertProfile).join(User, User.id == ExpertProfile.user_id).order_by(User.username)
    if district:
        query = query.where(ExpertProfile.district == district)
    rows = list(session.scalars(query))
    if speciality:
        wanted = speciality.strip().lower()
        rows = [r for r in rows if any(wanted in s.lower() for s in r.specialities)]
    return rows


def relationships_of(session: Session, user_id: int) -> list[ExpertRelationship]:
    return list(
        session.scalars(
            select(ExpertRelationship).where(ExpertRelationship.expert_id == user_id).order_by(ExpertRelationship.uscc)
        )
    )


# --- who may be drawn -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What decides whether an expert may sit on one application's panel."""

    applicant_usccs: frozenset[str]
    service_uscc: str | None = None
    district: str | None = None
    exclude_same_district: bool = False
    related: dict[int, frozenset[str]] = field(default_factory=dict)  # expert id -> USCCs they declared ties with
    conflicted: frozenset[int] = frozenset()  # declared a conflict on this application before
    members: frozenset[int] = frozenset()  # on the panel now


def reasons_against(candidate: dict[str, Any], facts: Facts) -> list[str]:
    """Why this expert may not be drawn for the application (empty: eligible)."""
    reasons = []
    employer = candidate["employer_uscc"]
    if employer in facts.applicant_usccs:
        reasons.append(SAME_EMPLOYER)
    if facts.service_uscc and employer == facts.service_uscc:
        reasons.append(SERVICE_COMPANY)
    parties = facts.applicant_usccs | ({facts.service_uscc} if facts.service_uscc else set())
    if facts.related.get(candidate["user_id"], frozenset()) & parties:
        reasons.append(DECLARED_RELATIONSHIP)
    if facts.exclude_same_district and facts.district and candidate["district"] == facts.district:
        reasons.append(SAME_DISTRICT)
    if candidate["user_id"] in facts.conflicted:
        reasons.append(DECLARED_CONFLICT)
    if candidate["user_id"] in facts.members:
        reasons.append(ALREADY_ON_PANEL)
    return reasons


def screen(candidates: list[dict[str, Any]], facts: Facts) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pool, excluded): the candidates sorted by username, each either eligible or left out with its reasons."""
    pool, excluded = [], []
    for candidate in sorted(candidates, key=lambda c: c["username"]):
        reasons = reasons_against(candidate, facts)
        if reasons:
            excluded.append({"username": candidate["username"], "reasons": reasons})
        else:
            pool.append(candidate)
    return pool, excluded


def _valid_uscc(value: Any) -> str | None:
    code = value.strip().upper() if isinstance(value, str) else ""
    return code if code and uscc_problem(code) is None else None


def facts_for(session: Session, application: Application, exclude_same_district: bool = False) -> Facts:
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None
    # The organisation that applies, and the 申报主体 the form names if that differs.
    applicant = {organisation.uscc, _valid_uscc(application.form.get("uscc"))} - {None}
    service = _valid_uscc(application.form.get("service_company_uscc"))
    parties = {*applicant, *([service] if service else [])}
    related: dict[int, set[str]] = {}
    for expert_id, code in session.execute(
        select(ExpertRelationship.expert_id, ExpertRelationship.uscc).where(ExpertRelationship.uscc.in_(parties))
    ):
        related.setdefault(expert_id, set()).add(code)
    conflicted, members = set(), set()
    for user_id, active, conflict in session.execute(
        select(Assignment.user_id, Assignment.active, Assignment.conflict).where(
            Assignment.application_id == application.id, Assignment.role == "expert"
        )
    ):
        if conflict is True:
            conflicted.add(user_id)
        elif active:
            members.add(user_id)
    return Facts(
        applicant_usccs=frozenset(c for c in applicant if c),
        service_uscc=service,
        district=application.district,
        exclude_same_district=exclude_same_district,
        related={k: frozenset(v) for k, v in related.items()},
        conflicted=frozenset(conflicted),
        members=frozenset(members),
    )


def candidates(session: Session) -> list[dict[str, Any]]:
    """Every expert in the pool now: an active profile of an active expert account."""
    rows = session.execute(
        select(User.id, User.username, ExpertProfile.employer_uscc, ExpertProfile.district, ExpertProfile.specialities)
        .join(ExpertProfile, ExpertProfile.user_id == User.id)
        .where(ExpertProfile.active.is_(True), User.active.is_(True), User.role == "expert")
        .order_by(User.username)
    )
    return [
        {
            "user_id": user_id,
            "username": username,
            "employer_uscc": employer,
            "district": district,
            "specialities": list(specialities),
        }
        for user_id, username, employer, district, specialities in rows
    ]


def eligible_pool(
    session: Session, application: Application, exclude_same_district: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(pool, excluded) for this application now: pool sorted by username, excluded as [{username, reasons}]."""
    return screen(candidates(session), facts_for(session, application, exclude_same_district))


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
        raise _invalid(Problem("seed", "invalid", f"seed is text of 1 to {SEED_MAX} characters"))
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
    event = audit.append(
        session,
        actor=who,
        outcome="panel_drawn",
        application_id=app.id,
        from_state=app.state,
        to_state=app.state,
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


def _in_panel_state(session: Session, app: Application, who: Actor, what: str) -> None:
    if app.state != PANEL_STATE:
        definition = programme_definitions(session)[app.programme_version_id]
        raise NotAllowedNow(
            f"{what} only in state {PANEL_STATE}; the application is in '{app.state}'",
            app.state,
            allowed_triggers(session, app, who, definition),
        )


def draw_panel(
    actor: Actor | int,
    application_id: int,
    size: int = DEFAULT_SIZE,
    seed: str | None = None,
    exclude_same_district: bool = False,
    request_id: str | None = None,
) -> PanelDraw:
    """Draw the application's panel from the experts eligible for it; the first drawn leads."""
    with db.transaction() as session:
        who = resolve_actor(session, actor)
        _role_required(who, DRAWERS, "draw an expert panel")
        app = get_visible(session, who, application_id, lock=True)
        if app is None:
            raise NotFound(f"application {application_id} not found")
        _in_panel_state(session, app, who, "a panel is drawn")
        seated = _panel_now(session, app.id)
        if seated:
            names = ", ".join(a.user.username for a in seated)
            raise PanelConflict(
                f"application {app.id} already has a panel ({names}); a member who declares a conflict is replaced"
            )
        chosen_seed = _checked_seed(seed)
        pool, excluded = eligible_pool(session, app, exclude_same_district)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= len(pool):
            detail = (
                f"size must be from 1 to {len(pool)}, the experts eligible now; got {size}"
                if pool
                else f"no expert is eligible for application {app.id} ({len(excluded)} left out): add experts first"
            )
            raise _invalid(Problem("size", "out_of_range" if pool else "empty_pool", detail))
        draw = _record_draw(
            session,
            who,
            app,
            reason="initial",
            seed=chosen_seed,
            size=size,
            pool=pool,
            excluded=excluded,
            leader_first=True,
            exclude_same_district=exclude_same_district,
            request_id=request_id,
        )
    outbox.kick()
    return draw


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
        _in_panel_state(session, app, who, "a declaration is made")
        text, note_problem = _text(note, "note", NOTE_MAX, required=bool(conflict))
        if note_problem:
            if note_problem.code == "required":
                note_problem = Problem("note", "required", "say what the conflict of interest is (note)")
            raise _invalid(note_problem)
        mine.declared_at, mine.conflict, mine.declaration_note = utcnow(), bool(conflict), text or None
        led = mine.is_leader
        if conflict:
            mine.active, mine.is_leader = False, False
        session.flush()
        audit.append(
            session,
            actor=who,
            outcome="declared",
            application_id=app.id,
            from_state=app.state,
            to_state=app.state,
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
        audit.append(
            session,
            actor=SYSTEM,
            outcome="panel_short",
            application_id=app.id,
            from_state=app.state,
            to_state=app.state,
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
        who = resolve_actor(session, actor)
        _role_required(who, VISIT_SCHEDULERS, "schedule the site visit")
        app = get_visible(session, who, application_id, lock=True)
        if app is None:
            raise NotFound(f"application {application_id} not found")
        _in_panel_state(session, app, who, "the site visit is scheduled")
        place_text, place_problem = _text(place, "place", PLACE_MAX, required=True)
        note_text, note_problem = _text(note, "note", NOTE_MAX, required=False)
        problems = [p for p in (place_problem, note_problem) if p]
        when = as_utc(visit_at)
        if when <= utcnow():
            problems.insert(
                0, Problem("visit_at", "not_future", f"the visit must be in the future, not {when:%Y-%m-%d %H:%M}Z")
            )
        if problems:
            raise _invalid(*problems)
        visit = session.scalars(select(SiteVisit).where(SiteVisit.application_id == app.id)).one_or_none()
        previous = as_utc(visit.visit_at).isoformat() if visit is not None else None
        if visit is None:
            visit = SiteVisit(application_id=app.id)
            session.add(visit)
        visit.visit_at, visit.place, visit.note = when, place_text, note_text
        visit.scheduled_by_id, visit.scheduled_at = who.id, utcnow()
        session.flush()
        event = audit.append(
            session,
            actor=who,
            outcome="visit_scheduled",
            application_id=app.id,
            from_state=app.state,
            to_state=app.state,
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


def _iso(value: dt.datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def visit_json(visit: SiteVisit | None, session: Session) -> dict[str, Any] | None:
    if visit is None:
        return None
    by = session.get(User, visit.scheduled_by_id) if visit.scheduled_by_id else None
    return {
        "visit_at": _iso(visit.visit_at),
        "place": visit.place,
        "note": visit.note,
        "scheduled_by": by.username if by else None,
        "scheduled_at": _iso(visit.scheduled_at),
    }


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
        "drawn_at": _iso(draw.created_at),
    }


def panel_view(session: Session, actor: Actor, application_id: int) -> dict[str, Any]:
    """The panel as `actor` may see it: members (and who left on a conflict), the draws, seats unfilled, the visit.

    The applicant sees the visit only: who sits on the panel is not told to the party it examines."""
    app = get_visible(session, actor, application_id)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    visit = visit_json(
        session.scalars(select(SiteVisit).where(SiteVisit.application_id == app.id)).one_or_none(), session
    )
    if actor.role == "applicant":
        return {"application_id": app.id, "members": [], "draws": [], "size": 0, "short": 0, "visit": visit}
    rows = list(
        session.scalars(
            select(Assignment)
            .where(Assignment.application_id == app.id, Assignment.role == "expert")
            .order_by(Assignment.active.desc(), Assignment.is_leader.desc(), Assignment.id)
        )
    )
    members = [
        {
            "username": a.user.username,
            "name": a.user.display_name or a.user.username,
            "leader": a.is_leader,
            "active": a.active and a.conflict is not True,
            "declared": a.declared_at is not None,
            "declared_at": _iso(a.declared_at),
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

    Read through visibility as the system: before declaring, the expert may know whose file it is, not see it."""
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
            visible_applications(session, SYSTEM).where(Application.id.in_([r.application_id for r in rows]))
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
                "service_company_uscc": _valid_uscc(app.form.get("service_company_uscc")),
                "state": app.state,
                "leader": row.is_leader,
                "declared": row.declared_at is not None,
                "declared_at": _iso(row.declared_at),
                "conflict": row.conflict,
                "pending": row.active and row.declared_at is None and app.state == PANEL_STATE,
                "visit": visit_json(visits.get(app.id), session) if row.active and row.conflict is False else None,
            }
        )
    out.sort(key=lambda a: (not a["pending"], a["conflict"] is True))
    return out


__all__ = [
    "REASONS",
    "Declaration",
    "Facts",
    "PanelConflict",
    "add_expert",
    "assignments_of",
    "declare",
    "draw_members",
    "draw_panel",
    "eligible_pool",
    "panel_view",
    "pool_digest",
    "relate",
    "reproduce",
    "schedule_visit",
    "screen",
    "verify_draw",
]
