"""Verbs outside fire(): publish programmes, create and edit drafts, assign experts, read history."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow import audit, definitions, outbox, registry
from workflow.accounts import DISTRICTS, Actor, Organisation, User
from workflow.db import db, utcnow
from workflow.definitions import Definition, DefinitionError, canonical_json
from workflow.engine import allowed_triggers, command_target, record_denial, resolve_actor
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, Problem, StaleVersion, WorkflowError
from workflow.models import Application, Assignment, AuditEvent, ProgrammeVersion
from workflow.visibility import programme_definitions, visible_or_not_found

ASSIGNED = "assigned"
# Who may put a person on an application (an expert on its panel).
ASSIGNERS = frozenset({"agency_coordinator", "municipal_reviewer", "admin", "system"})


def publish(session: Session, definition: Definition) -> tuple[ProgrammeVersion, bool]:
    """Store a definition version; returns (row, created). A published version never changes."""
    existing = session.scalars(
        select(ProgrammeVersion).where(
            ProgrammeVersion.code == definition.code, ProgrammeVersion.version == definition.version
        )
    ).one_or_none()
    if existing is not None:
        if existing.digest != definition.digest:
            raise DefinitionError(
                definition.label,
                [
                    f"version {definition.version} is already published with different content; "
                    f"publish it as version {latest_version(session, definition.code) + 1}"
                ],
            )
        return existing, False
    row = ProgrammeVersion(
        code=definition.code,
        version=definition.version,
        title=definition.title.get("zh") or definition.title.get("en") or definition.code,
        definition=json.loads(canonical_json(definition.raw)),
        digest=definition.digest,
    )
    session.add(row)
    session.flush()
    return row, True


def publish_file(session: Session, path: Path) -> tuple[ProgrammeVersion, bool]:
    return publish(session, definitions.load_file(path))


def seed_programmes(session: Session) -> list[tuple[ProgrammeVersion, bool]]:
    """Publish every shipped definition that is not yet in the database."""
    return [publish(session, d) for d in definitions.shipped()]


def latest_version(session: Session, code: str) -> int:
    return session.scalar(select(func.max(ProgrammeVersion.version)).where(ProgrammeVersion.code == code)) or 0


def current_programme(session: Session, code: str) -> tuple[ProgrammeVersion, Definition]:
    row = session.scalars(
        select(ProgrammeVersion).where(ProgrammeVersion.code == code).order_by(ProgrammeVersion.version.desc()).limit(1)
    ).one_or_none()
    if row is None:
        known = session.scalars(select(ProgrammeVersion.code).distinct()).all()
        raise InvalidInput(
            f"unknown programme '{code}'",
            [Problem("programme", "unknown", f"'{code}' is not a programme; known: {', '.join(sorted(known))}")],
        )
    return row, programme_definitions(session)[row.id]


def open_round(session: Session, code: str, opens: dt.date, closes: dt.date, actor: Actor) -> ProgrammeVersion:
    """Publish the next round of a programme: version N+1 is the newest version with its window replaced.

    A round is a local setting (the seeds state only the 2022 round), recorded in the version's local_settings. It
    may not close before it opens, nor overlap the newest version's window. A definition file shipped later for
    this programme must take the next free version number (a published version never changes).
    """
    problems: list[Problem] = []
    if closes < opens:
        message = f"截止日 {closes} 早于开始日 {opens}"
        problems.append(Problem("closes", "before_opens", message))
    row, definition = current_programme(session, code)
    window = definition.window
    if window is None:
        message = f"{definition.label} 没有申报窗口（window），不按轮次申报"
        problems.append(Problem("programme", "no_window", message))
    elif (window.closes is None or opens <= window.closes) and (window.opens is None or closes >= window.opens):
        shown = f"{window.opens or '…'} 至 {window.closes or '…'}"
        message = f"新一轮 {opens} 至 {closes} 与 {definition.label} 的申报窗口 {shown} 重叠"
        problems.append(Problem("opens", "overlaps_round", message))
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    raw = copy.deepcopy(definition.raw)
    raw["version"] = row.version + 1
    raw["window"] = {"opens": opens.isoformat(), "closes": closes.isoformat()}
    local = {k: v for k, v in raw.get("local_settings", {}).items() if not k.startswith("window")}
    local["window"] = {
        "value": f"{opens.isoformat()}..{closes.isoformat()}",
        "zh": f"申报窗口 {opens} 至 {closes}（含首尾两日，上海时间；"
        "本地设置：由 manage.py workflow round 发布的申报轮次）",
        "en": f"Applications open {opens} to {closes}, both days included, Shanghai time (local setting: a round "
        "published by manage.py workflow round)",
    }
    raw["local_settings"] = local
    published, _created = publish(session, definitions.parse(raw, source=f"{code}@{raw['version']} (round)"))
    audit.append(
        session,
        actor=actor,
        outcome="round_opened",
        application_id=None,
        payload={"programme": code, "opens": opens.isoformat(), "closes": closes.isoformat()},
        definition=published.label,
    )
    return published


def move_organisation(session: Session, actor: Actor, organisation: Organisation, district: str, note: str = "") -> str:
    """An administrator registers the organisation in another district; the old district comes back.

    Applications already created keep the district they were created under: who reviews a file does not change
    under it. Only applications created from now on go to the new district.
    """
    if district not in DISTRICTS:
        message = f"'{district}' is not a Shanghai district; one of: {', '.join(DISTRICTS)}"
        raise InvalidInput(message, [Problem("district", "not_allowed", message)])
    before = organisation.district or ""
    organisation.district = district
    audit.append(
        session,
        actor=actor,
        outcome="org_moved",
        application_id=None,
        payload={"uscc": organisation.uscc, "from": before, "to": district, "note": note},
    )
    return before


def _project_name_problem(project_name: str | None) -> Problem | None:
    if not project_name or not project_name.strip():
        return Problem("project_name", "required", "project_name is required")
    if len(project_name.strip()) > 300:
        return Problem("project_name", "too_long", f"project_name has at most 300 characters, not {len(project_name)}")
    return None


def create_application(
    actor: Actor | int,
    programme: str,
    kind: str,
    project_name: str,
    form: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> Application:
    """An applicant opens a draft under the programme's current version (and stays pinned to it)."""
    form = json.loads(canonical_json(form or {}))
    with db.transaction() as session:
        user = resolve_actor(session, actor)
        if user.role != "applicant" or user.organisation_id is None:
            raise Forbidden("only an applicant account attached to an organisation can open an application")
        row, definition = current_programme(session, programme)
        problems = []
        if kind not in definition.applicant_kinds:
            problems.append(
                Problem(
                    "kind",
                    "not_allowed",
                    f"'{kind}' may not apply to {programme}; allowed: " + ", ".join(definition.applicant_kinds),
                )
            )
        name_problem = _project_name_problem(project_name)
        if name_problem:
            problems.append(name_problem)
        if not problems:
            problems.extend(registry.draft_problems(definition, kind, form))
        if problems:
            raise InvalidInput("; ".join(p.message for p in problems), problems)
        organisation = session.get(Organisation, user.organisation_id)
        assert organisation is not None
        if organisation.district not in DISTRICTS:
            message = (
                f"{organisation.name} has no registered district, so no district authority could pre-review the "
                "application; an administrator registers it (manage.py orgs move)"
            )
            raise InvalidInput(message, [Problem("district", "unregistered", message)])
        app = Application(
            programme_version_id=row.id,
            organisation_id=organisation.id,
            kind=kind,
            project_name=project_name.strip(),
            # The reviewing authority is the organisation's registered district, fixed now: a form field may say
            # where the project is, but never routes the file (an applicant could otherwise choose its reviewer).
            district=organisation.district,
            form=form,
            state=definition.initial,
            version=1,
            created_by_id=user.id,
        )
        session.add(app)
        session.flush()
        audit.append(
            session,
            actor=user,
            outcome="created",
            application_id=app.id,
            to_state=app.state,
            payload={"kind": kind, "project_name": app.project_name, "programme": row.label},
            definition=definition.label,
            request_id=request_id,
            app_version=app.version,
        )
        return app


def update_draft(
    actor: Actor | int,
    application_id: int,
    changes: dict[str, Any],
    expected_version: int | None,
    project_name: str | None = None,
    request_id: str | None = None,
) -> Application:
    """Merge-patch the form (RFC 7386: null removes a key) while the definition allows editing."""
    changes = json.loads(canonical_json(changes or {}))
    try:
        with db.transaction() as session:
            definitions_by_id = programme_definitions(session)
            user, app = command_target(session, actor, application_id, definitions=definitions_by_id)
            definition = definitions_by_id[app.programme_version_id]
            if user.role != "applicant":
                raise Forbidden("only the applicant edits the form")
            if app.state not in definition.editable:
                raise NotAllowedNow(
                    f"the form can be edited only in state {' or '.join(definition.editable)}; "
                    f"the application is in '{app.state}'",
                    app.state,
                    allowed_triggers(session, app, user, definition),
                )
            if expected_version is not None and expected_version != app.version:
                raise StaleVersion(
                    f"application {app.id} is at version {app.version}, not {expected_version}; reload and retry",
                    expected_version,
                    app.version,
                )
            problems = registry.draft_problems(definition, app.kind, changes)
            if problems:
                raise InvalidInput("; ".join(p.message for p in problems), problems)
            form = dict(app.form)
            for key, value in changes.items():
                if value is None:
                    form.pop(key, None)
                else:
                    form[key] = value
            app.form = form
            if project_name is not None:
                problem = _project_name_problem(project_name)
                if problem:
                    raise InvalidInput(problem.message, [problem])
                app.project_name = project_name.strip()
            app.version += 1
            app.updated_at = utcnow()
            audit.note(
                session,
                user,
                app,
                "edited",
                payload={"changes": changes, **({"project_name": project_name} if project_name else {})},
                definition=definition.label,
                request_id=request_id,
            )
            return app
    except WorkflowError as exc:
        record_denial(actor, application_id, "edit", exc, changes, request_id)
        raise


def assign(
    actor: Actor | int, application_id: int, user_id: int, role: str = "expert", leader: bool = False
) -> Assignment:
    """Put a person on an application (an expert on its panel); the review desks will draw panels."""
    with db.transaction() as session:
        who, app = command_target(
            session, actor, application_id, roles=ASSIGNERS, doing="assign people to applications"
        )
        person = session.get(User, user_id)
        if person is None or person.role != role:
            raise InvalidInput(
                f"user {user_id} is not an active {role}",
                [Problem("user_id", "wrong_role", f"user {user_id} is not an active {role}")],
            )
        if leader:
            for other in session.scalars(select(Assignment).where(Assignment.application_id == app.id)):
                other.is_leader = False
        found = session.scalars(
            select(Assignment).where(Assignment.application_id == app.id, Assignment.user_id == user_id)
        ).one_or_none()
        if found is None:
            found = Assignment(application_id=app.id, user_id=user_id, role=role)
            session.add(found)
        found.is_leader, found.active = leader, True
        session.flush()
        event = audit.note(
            session,
            who,
            app,
            "assigned",
            payload={"user": person.username, "role": role, "leader": leader},
        )
        outbox.publish(session, ASSIGNED, {"application_id": app.id, "event_seq": event.seq}, application_id=app.id)
    outbox.kick()
    return found


# Outside parties see only their own refused attempts, never what another person tried.
OWN_DENIALS_ONLY = frozenset({"applicant", "expert"})

# Reading a file (an attachment, a photo, the binder, a printed document) is audit data like a refused attempt:
# the outside parties see only their own reads (who on the panel opened what is not the applicant's to watch).
READS = frozenset({"attachment_read", "file_read"})


# The panel's working (who sits on it, their declarations, their own results) is not the applicant's to watch:
# they meet the panel at the visit and hear its conclusion.
PANEL_INTERNAL = frozenset(
    {"assigned", "panel_drawn", "panel_short", "declared", "scored", "photo_added", "sheet_submitted"}
)


# The reviewers' working notes in a decision's payload (the pre-review checks, the per-document marks): the
# applicant hears the decision, its comment and points, not the desk's checklist.
REVIEWERS_NOTES = frozenset({"checks", "documents"})


# What an approval discloses to the applicant of the proposal it approves: the approved amount, once approved.
DISCLOSED_ON_APPROVAL: dict[str, tuple[str, tuple[str, ...]]] = {"approve_award": ("propose_award", ("amount",))}


def shown_to(event: AuditEvent, actor: Actor, definition: Definition | None = None) -> bool:
    """Whether `actor` sees this event in an application's history.

    Everyone who may see the application sees every change to it (creation, edits, transitions with their
    comments, assignments), except that the applicant does not see the panel's internal working
    (PANEL_INTERNAL) nor a transition its definition hides from them (`visibility = "hidden"`: a draft award and
    its send-back). Refused attempts and reads of files (READS) are audit data: the authorities that run and
    oversee the programme (reviewers, finance, coordinators, administrators, auditors) see all of them; the
    applicant and the third-party experts see only their own.
    """
    if actor.role == "applicant":
        if event.outcome in PANEL_INTERNAL:
            return False
        hidden = definition is not None and definition.visibility_of(event.trigger, event.from_state) == "hidden"
        if event.outcome == "transition" and hidden:
            return False
    if (event.outcome != "denied" and event.outcome not in READS) or actor.role not in OWN_DENIALS_ONLY:
        return True
    return event.actor_id == actor.id


def applicant_payload(event: AuditEvent, definition: Definition, disclosed: dict[str, Any]) -> dict[str, Any]:
    """The part of a shown event's payload addressed to the applicant: all of it but the reviewers' notes for a
    transition addressed to them, nothing of an internal one but what its approval discloses."""
    payload = event.payload or {}
    if event.outcome == "transition" and definition.visibility_of(event.trigger, event.from_state) != "applicant":
        return dict(disclosed.get(event.trigger or "", {}))
    return {k: v for k, v in payload.items() if k not in REVIEWERS_NOTES}


def history(session: Session, actor: Actor, application_id: int) -> list[AuditEvent]:
    """The application's timeline from the audit chain, as much of it as `actor` may see (pages and API alike)."""
    app = visible_or_not_found(session, actor, application_id)
    definition = programme_definitions(session)[app.programme_version_id]
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == application_id).order_by(AuditEvent.seq)
    )
    if actor.role != "applicant":
        return [event for event in events if shown_to(event, actor, definition)]
    shown: list[AuditEvent] = []
    proposed: dict[str, dict[str, Any]] = {}  # approval trigger -> what it discloses of the latest proposal
    approvals = {proposal: (approval, fields) for approval, (proposal, fields) in DISCLOSED_ON_APPROVAL.items()}
    for event in events:
        if event.outcome == "transition" and event.trigger in approvals:
            approval, fields = approvals[event.trigger]
            proposed[approval] = {k: event.payload[k] for k in fields if k in (event.payload or {})}
        if not shown_to(event, actor, definition):
            continue
        kept = applicant_payload(event, definition, proposed)
        if kept != event.payload:
            # As loaded, not as changed: the audit row itself is never written back.
            set_committed_value(event, "payload", kept)
        shown.append(event)
    return shown


__all__ = [
    "DISCLOSED_ON_APPROVAL",
    "OWN_DENIALS_ONLY",
    "PANEL_INTERNAL",
    "READS",
    "REVIEWERS_NOTES",
    "applicant_payload",
    "assign",
    "create_application",
    "current_programme",
    "history",
    "move_organisation",
    "open_round",
    "publish",
    "publish_file",
    "seed_programmes",
    "shown_to",
    "update_draft",
]
