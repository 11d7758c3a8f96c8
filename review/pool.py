"""The expert pool: profiles (employer, district, specialities), declared ties, and who may be drawn for what.

An expert is left out of a draw for an application when employed by the applicant or its technical service
company, when tied to either by a declared relationship, when they declared a conflict on it before, when already
on its panel, and (if configured) when of the same district.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.uscc import problem as uscc_problem
from review.models import ExpertProfile, ExpertRelationship
from workflow import audit
from workflow.accounts import DISTRICTS, SYSTEM_ROLE, Actor, Organisation, User
from workflow.db import db
from workflow.engine import resolve_actor
from workflow.errors import Forbidden, InvalidInput, Problem
from workflow.models import Application, Assignment

# Who keeps the pool (the CLI acts as the system).
POOL_KEEPERS = frozenset({"admin", "agency_coordinator", SYSTEM_ROLE})
NAME_MAX = 200
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


def invalid(*problems: Problem) -> InvalidInput:
    return InvalidInput("; ".join(p.message for p in problems), list(problems))


def role_required(who: Actor, roles: frozenset[str], what: str) -> None:
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
        return code, Problem(name, "invalid_uscc", f"“{value}”不是有效的统一社会信用代码：{why}")
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


def text_field(value: Any, name: str, maximum: int, required: bool) -> tuple[str, Problem | None]:
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
        role_required(who, POOL_KEEPERS, "keep the expert pool")
        user, user_problem = _expert_user(session, username)
        code, uscc_found = checked_uscc(employer_uscc, "employer_uscc")
        name, name_problem = text_field(employer_name, "employer_name", NAME_MAX, required=True)
        district_problem = None
        if district not in DISTRICTS:
            district_problem = Problem(
                "district", "unknown_district", f"'{district}' is not a district; one of {', '.join(DISTRICTS)}"
            )
        wanted, speciality_problem = _specialities(specialities)
        problems = [p for p in (user_problem, uscc_found, name_problem, district_problem, speciality_problem) if p]
        if problems:
            raise invalid(*problems)
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
            role_required(who, POOL_KEEPERS, "record an expert's relationships")
        user, user_problem = _expert_user(session, expert_username)
        code, uscc_found = checked_uscc(uscc, "uscc")
        org_name, name_problem = text_field(name, "name", NAME_MAX, required=False)
        text, note_problem = text_field(note, "note", NOTE_MAX, required=False)
        problems = [p for p in (user_problem, uscc_found, name_problem, note_problem) if p]
        if problems:
            raise invalid(*problems)
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


def valid_uscc(value: Any) -> str | None:
    code = value.strip().upper() if isinstance(value, str) else ""
    return code if code and uscc_problem(code) is None else None


def facts_for(session: Session, application: Application, exclude_same_district: bool = False) -> Facts:
    organisation = session.get(Organisation, application.organisation_id)
    assert organisation is not None
    # The organisation that applies, and the 申报主体 the form names if that differs.
    applicant = {organisation.uscc, valid_uscc(application.form.get("uscc"))} - {None}
    service = valid_uscc(application.form.get("service_company_uscc"))
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
