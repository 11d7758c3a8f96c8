"""Review desks' queues: what waits on each desk, since when and for what, built on the one visibility query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, joinedload

from review.models import ChecklistSheet, PanelDraw, PreReview, SiteVisit, SupplementRequest
from workflow import workdays
from workflow.accounts import DISTRICTS, Actor, Organisation, User
from workflow.db import as_utc, utcnow
from workflow.definitions import Definition
from workflow.errors import InvalidInput, Problem
from workflow.models import Application, Assignment, AuditEvent, Deadline
from workflow.registry import attendants
from workflow.visibility import known_by_assignment, programme_definitions, visible_applications

# The states on each role's desk: "desk" is work waiting for the desk itself; "applicant" is what the desk handed
# back to the applicant and keeps an eye on (a return for correction, a supplement request).
DESKS: dict[str, dict[str, tuple[str, ...]]] = {
    "district_reviewer": {"desk": ("district_review",), "applicant": ("returned",)},
    "municipal_reviewer": {"desk": ("completeness_check",), "applicant": ("supplement_requested",)},
    "agency_coordinator": {"desk": ("site_verification",)},
    "expert": {"desk": ("site_verification",)},
    "monitoring_reviewer": {"desk": ("technical_review",), "applicant": ("returned",)},
    "market_regulator": {"desk": ("regulator_approval",)},
    # An approved award still waits for finance: the payment to record.
    "finance_officer": {"desk": ("funding_review", "award_proposed", "award_approved")},
}
WAITING_ON: tuple[str, ...] = ("desk", "applicant")
SORTS: tuple[str, ...] = ("waiting", "kind", "district")
ORDERS: tuple[str, ...] = ("asc", "desc")
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # keeps the offset within what every database accepts

# What a row waits for, in both languages; {pending}, {members}, {missing} are filled in per row.
WAITING_FOR: dict[str, tuple[str, str]] = {
    "prereview": ("材料初审：核查并作出决定", "Pre-review: check and decide"),
    "prereview_again": ("已按退回意见修改并重新提交：再次初审", "Resubmitted after a return: pre-review again"),
    "applicant_correction": ("等待申报单位修改后重新提交", "The applicant's corrections"),
    "completeness": ("完备性审核：逐项核对材料", "Completeness check: go through the documents"),
    "supplement_answered": ("申报单位已补充材料：再次审核", "Supplement answered: check again"),
    "applicant_supplement": ("等待申报单位补充材料", "The applicant's supplement"),
    "panel_to_draw": ("抽取专家组", "Panel to draw"),
    "replacement_to_draw": ("补抽专家 {missing} 名", "Replacement to draw ({missing})"),
    "declarations_pending": (
        "专家利益冲突声明未交 {pending} 份（共 {members} 名）",
        "Declarations pending ({pending} of {members})",
    ),
    "visit_to_schedule": ("安排现场核查时间", "Site visit to schedule"),
    "sheets_pending": (
        "核查表未交 {pending} 份（共 {members} 份）",
        "Checklist sheets pending ({pending} of {members})",
    ),
    "conclusion": ("等待专家组组长作出核查结论", "The panel leader's conclusion"),
    "your_declaration": ("请先声明有无利益冲突", "Your declaration of interests"),
    "your_sheet": ("填写并提交您的核查表", "Your checklist sheet"),
    "members_sheets": (
        "等待其他专家提交核查表（未交 {pending} 份）",
        "Other members' sheets ({pending} still to come)",
    ),
    "your_conclusion": ("作出核查结论（您是组长）", "Your conclusion as panel leader"),
    "site_verification": ("第三方现场核查", "Site verification"),
    "technical_review": ("技术审核", "Technical review"),
    "regulator_approval": ("审批", "Approval"),
    "award_to_propose": ("拟定{award}金额", "Award to propose"),
    "award_to_review": ("复核拟定金额", "Proposed award to review"),
    "award_proposed_by_you": ("等待另一位财务人员复核您的拟定金额", "A second officer's review of your proposal"),
    "payment_to_record": ("登记拨付", "Payment to record"),
}
# A state's phrase when the role needs nothing more particular.
_BY_STATE = {
    "district_review": "prereview",
    "returned": "applicant_correction",
    "completeness_check": "completeness",
    "supplement_requested": "applicant_supplement",
    "site_verification": "site_verification",
    "technical_review": "technical_review",
    "regulator_approval": "regulator_approval",
    "funding_review": "award_to_propose",
    "award_proposed": "award_to_review",
    "award_approved": "payment_to_record",
}


@dataclass(frozen=True)
class WaitingFor:
    code: str
    params: dict[str, int | str] = field(default_factory=dict)

    def label(self, lang: str) -> str:
        zh, en = WAITING_FOR.get(self.code, (self.code, self.code))
        return (zh if lang == "zh" else en).format(**self.params)


@dataclass(frozen=True)
class QueueRow:
    id: int
    project_name: str
    organisation: str
    kind: str
    district: str | None
    programme: str  # the programme's code
    definition: Definition
    state: str
    version: int
    waiting_since: dt.datetime  # UTC: when the application entered its state
    waiting_days: int  # whole days since then, counted on Shanghai's calendar
    waiting_for: WaitingFor
    due_date: dt.date | None  # the open deadline's last day, Shanghai time


@dataclass(frozen=True)
class UndeclaredAssignment:
    """An expert's own assignment not yet declared: the file stays closed, so only these three facts show."""

    project_name: str
    organisation: str
    district: str | None
    assigned_at: dt.datetime


@dataclass
class DeskQueue:
    role: str
    waiting_on: str
    states: tuple[str, ...]
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int
    counts: dict[str, int]  # rows on each list ("desk", "applicant") under the same filters
    undeclared: list[UndeclaredAssignment]

    @property
    def has_desk(self) -> bool:
        return bool(self.counts)


def filter_choices(definitions: dict[int, Definition]) -> dict[str, list[str]]:
    """The values each filter accepts: applicant kinds, districts, programme codes."""
    kinds = dict.fromkeys(k for d in definitions.values() for k in d.applicant_kinds)
    return {
        "kind": list(kinds),
        "district": list(DISTRICTS),
        "programme": sorted({d.code for d in definitions.values()}),
    }


def check_params(
    definitions: dict[int, Definition],
    *,
    kind: str | None = None,
    district: str | None = None,
    programme: str | None = None,
    sort: str = "waiting",
    order: str = "desc",
    page: int = 1,
    per_page: int = 25,
    waiting_on: str = "desk",
) -> list[Problem]:
    """Every parameter the queue cannot take, each named with what it accepts."""
    problems = []
    choices = filter_choices(definitions)
    for name, value in (("kind", kind), ("district", district), ("programme", programme)):
        if value is not None and value not in choices[name]:
            problems.append(Problem(name, "unknown", f"'{value}' is not a {name}; one of {', '.join(choices[name])}"))
    named = (("sort", sort, SORTS), ("order", order, ORDERS), ("waiting_on", waiting_on, WAITING_ON))
    for name, value, allowed in named:
        if value not in allowed:
            problems.append(Problem(name, "unknown", f"{name} is one of {', '.join(allowed)}, not '{value}'"))
    if not 1 <= page <= MAX_PAGE:
        problems.append(Problem("page", "invalid", f"page is a whole number from 1 to {MAX_PAGE}"))
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append(Problem("per_page", "invalid", f"per_page is a whole number from 1 to {MAX_PER_PAGE}"))
    return problems


def entered_state() -> ColumnElement[Any]:
    """When the application entered the state it is in: the latest transition into that state."""
    entered = (
        select(func.max(AuditEvent.occurred_at))
        .where(
            AuditEvent.application_id == Application.id,
            AuditEvent.outcome == "transition",
            AuditEvent.to_state == Application.state,
        )
        .correlate(Application)
        .scalar_subquery()
    )
    return func.coalesce(entered, Application.updated_at)


def _filtered(
    query: Select[Any],
    definitions: dict[int, Definition],
    kind: str | None,
    district: str | None,
    programme: str | None,
) -> Select[Any]:
    if kind:
        query = query.where(Application.kind == kind)
    if district:
        query = query.where(Application.district == district)
    if programme:
        query = query.where(
            Application.programme_version_id.in_([pv_id for pv_id, d in definitions.items() if d.code == programme])
        )
    return query


def desk_queue(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    district: str | None = None,
    programme: str | None = None,
    sort: str = "waiting",
    order: str = "desc",
    page: int = 1,
    per_page: int = 25,
    waiting_on: str = "desk",
    now: dt.datetime | None = None,
) -> DeskQueue:
    """The applications waiting on `actor`'s desk, as far as visibility lets them see.

    sort "waiting" with order "desc" (the default) puts the longest waiting first; "kind" and "district" sort by
    that column (order "asc": A to Z), the longest waiting first within each. A role with no desk gets an empty
    queue (`has_desk` False).
    """
    definitions = programme_definitions(session)
    params = {"kind": kind, "district": district, "programme": programme}
    problems = check_params(
        definitions, **params, sort=sort, order=order, page=page, per_page=per_page, waiting_on=waiting_on
    )
    if problems:
        raise InvalidInput("; ".join(p.message for p in problems), problems)
    now = as_utc(now) if now is not None else utcnow()
    desk = DESKS.get(actor.role, {})
    states = desk.get(waiting_on, ())
    undeclared = _undeclared(session, actor, desk, district, programme, definitions)
    if not desk:
        return DeskQueue(actor.role, waiting_on, (), [], 0, page, per_page, {}, undeclared)

    # Visibility decides the rows; the desk's states and the filters only narrow what it allows.
    base = _filtered(visible_applications(session, actor, definitions), definitions, kind, district, programme)
    all_states = [s for listed in desk.values() for s in listed]
    on_desk = base.where(Application.state.in_(all_states)).subquery()
    grouped = select(on_desk.c.state, func.count()).group_by(on_desk.c.state)
    by_state: dict[str, int] = {state: n for state, n in session.execute(grouped)}
    counts = {view: sum(by_state.get(s, 0) for s in listed) for view, listed in desk.items()}

    since = entered_state()
    if sort == "waiting":
        keys = [since.asc() if order == "desc" else since.desc()]
    else:
        column = Application.kind if sort == "kind" else Application.district
        keys = [column.asc() if order == "asc" else column.desc(), since.asc()]
    query = (
        base.where(Application.state.in_(states))
        .add_columns(since.label("since"))
        .options(joinedload(Application.organisation))
        .order_by(*keys, Application.id.asc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    found = [(app, as_utc(entered)) for app, entered in session.execute(query)]
    apps = [app for app, _ in found]
    due = _open_deadlines(session, [app.id for app in apps])
    waiting = _waiting_for(session, actor, apps)
    today = workdays.today_in_shanghai(now)
    rows = [
        QueueRow(
            id=app.id,
            project_name=app.project_name,
            organisation=app.organisation.name,
            kind=app.kind,
            district=app.district,
            programme=definitions[app.programme_version_id].code,
            definition=definitions[app.programme_version_id],
            state=app.state,
            version=app.version,
            waiting_since=entered,
            waiting_days=max(0, (today - workdays.today_in_shanghai(entered)).days),
            waiting_for=waiting[app.id],
            due_date=due.get(app.id),
        )
        for app, entered in found
    ]
    total = counts.get(waiting_on, 0)
    return DeskQueue(actor.role, waiting_on, states, rows, total, page, per_page, counts, undeclared)


def _open_deadlines(session: Session, ids: list[int]) -> dict[int, dt.date]:
    """Each application's open deadline as the last day it may still be met, in Shanghai."""
    if not ids:
        return {}
    rows = session.execute(
        select(Deadline.application_id, Deadline.due_at).where(
            Deadline.application_id.in_(ids), Deadline.closed_at.is_(None), Deadline.fired_at.is_(None)
        )
    )
    return {app_id: workdays.today_in_shanghai(as_utc(due_at) - dt.timedelta(seconds=1)) for app_id, due_at in rows}


def _undeclared(
    session: Session,
    actor: Actor,
    desk: dict[str, tuple[str, ...]],
    district: str | None,
    programme: str | None,
    definitions: dict[int, Definition],
) -> list[UndeclaredAssignment]:
    """An expert's assignments still to declare. Visibility keeps these files closed until the declaration, so
    they are read from the expert's own assignment rows, and only the project, organisation and district show."""
    if actor.role != "expert" or actor.id is None:
        return []
    query = cast(
        Select[Any],
        select(Assignment.created_at, Application.project_name, Organisation.name, Application.district)
        .join(Application, Application.id == Assignment.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(
            Assignment.user_id == actor.id,
            Assignment.active.is_(True),
            Assignment.declared_at.is_(None),
            Application.state.in_(desk.get("desk", ())),
            Application.id.in_(known_by_assignment(actor).with_only_columns(Application.id)),
        )
        .order_by(Assignment.created_at, Assignment.id),
    )
    query = _filtered(query, definitions, None, district, programme)
    return [
        UndeclaredAssignment(project_name=name, organisation=org, district=where, assigned_at=as_utc(at))
        for at, name, org, where in session.execute(query)
    ]


def _waiting_for(session: Session, actor: Actor, apps: list[Application]) -> dict[int, WaitingFor]:
    """What each application waits for on this desk: the state's phrase, made particular where the records tell."""
    definitions = programme_definitions(session)
    out = {
        # The award's word is the programme's own (支持 or 扶持).
        app.id: WaitingFor(
            _BY_STATE.get(app.state, app.state),
            {"award": definitions[app.programme_version_id].terms.get("award", "支持")},
        )
        for app in apps
    }
    by_state: dict[str, list[int]] = defaultdict(list)
    for app in apps:
        by_state[app.state].append(app.id)
    if by_state.get("district_review"):
        returned_before = session.scalars(
            select(PreReview.application_id).where(
                PreReview.application_id.in_(by_state["district_review"]),
                PreReview.decision == "return_for_correction",
            )
        )
        for app_id in set(returned_before):
            out[app_id] = WaitingFor("prereview_again")
    if by_state.get("completeness_check"):
        answered = session.scalars(
            select(SupplementRequest.application_id).where(
                SupplementRequest.application_id.in_(by_state["completeness_check"]),
                SupplementRequest.answered_at.is_not(None),
            )
        )
        for app_id in set(answered):
            out[app_id] = WaitingFor("supplement_answered")
    if by_state.get("site_verification") and actor.role in ("agency_coordinator", "expert"):
        out.update(_panel_progress(session, actor, by_state["site_verification"]))
    if by_state.get("award_proposed") and actor.id is not None:
        # Four eyes: the officer who proposed the award waits for a second one.
        proposed = session.execute(
            select(AuditEvent.application_id, AuditEvent.actor_id)
            .where(
                AuditEvent.application_id.in_(by_state["award_proposed"]),
                AuditEvent.outcome == "transition",
                AuditEvent.trigger == "propose_award",
            )
            .order_by(AuditEvent.seq)
        )
        proposer = {app_id: who for app_id, who in proposed if app_id is not None}  # the latest proposal wins
        for app_id, who in proposer.items():
            if who == actor.id:
                out[app_id] = WaitingFor("award_proposed_by_you")
    return out


def _panel_progress(session: Session, actor: Actor, ids: list[int]) -> dict[int, WaitingFor]:
    """Site verification: the coordinator's next step, or the expert's own, from the panel's records."""
    members: dict[int, list[Assignment]] = defaultdict(list)
    for row in session.scalars(
        select(Assignment).where(
            Assignment.application_id.in_(ids), Assignment.active.is_(True), Assignment.role == "expert"
        )
    ):
        if row.conflict is not True:  # a declared conflict ends the assignment
            members[row.application_id].append(row)
    sizes: dict[int, int] = {}
    for app_id, size in session.execute(
        select(PanelDraw.application_id, PanelDraw.size)
        .where(PanelDraw.application_id.in_(ids), PanelDraw.reason == "initial")
        .order_by(PanelDraw.number)
    ):
        sizes[app_id] = size
    visited = set(session.scalars(select(SiteVisit.application_id).where(SiteVisit.application_id.in_(ids))))
    submitted: dict[int, set[int]] = defaultdict(set)
    for app_id, expert_id in session.execute(
        select(ChecklistSheet.application_id, ChecklistSheet.expert_id).where(
            ChecklistSheet.application_id.in_(ids), ChecklistSheet.submitted_at.is_not(None)
        )
    ):
        submitted[app_id].add(expert_id)

    out: dict[int, WaitingFor] = {}
    for app_id in ids:
        panel = members.get(app_id, [])
        count = len(panel)
        pending_sheets = sum(1 for m in panel if m.user_id not in submitted[app_id])
        if actor.role == "expert":
            mine = next((m for m in panel if m.user_id == actor.id), None)
            if mine is None:
                continue
            if mine.user_id not in submitted[app_id]:
                out[app_id] = WaitingFor("your_sheet")
            elif pending_sheets:
                out[app_id] = WaitingFor("members_sheets", {"pending": pending_sheets, "members": count})
            else:
                out[app_id] = WaitingFor("your_conclusion" if mine.is_leader else "conclusion")
            continue
        undeclared = sum(1 for m in panel if m.declared_at is None)
        if count == 0:
            out[app_id] = WaitingFor("panel_to_draw")
        elif app_id in sizes and count < sizes[app_id]:
            out[app_id] = WaitingFor("replacement_to_draw", {"missing": sizes[app_id] - count})
        elif undeclared:
            out[app_id] = WaitingFor("declarations_pending", {"pending": undeclared, "members": count})
        elif app_id not in visited:
            out[app_id] = WaitingFor("visit_to_schedule")
        elif pending_sheets:
            out[app_id] = WaitingFor("sheets_pending", {"pending": pending_sheets, "members": count})
        else:
            out[app_id] = WaitingFor("conclusion")
    return out


@attendants("review_desks")
def desk_attendants(session: Session, application: Application) -> list[int]:
    """Users whose desk (DESKS) holds the application's state as work of their own, but who fire no transition from
    it (the agency's coordinator draws the panel and schedules the visit in site verification)."""
    definition = programme_definitions(session)[application.programme_version_id]
    firing = {r for t in definition.from_state(application.state) for r in t.roles}
    roles = [
        role
        for role, desk in DESKS.items()
        if application.state in desk.get("desk", ()) and role not in firing and role not in ("applicant", "expert")
    ]
    if not roles:
        return []
    return list(session.scalars(select(User.id).where(User.active.is_(True), User.role.in_(roles))))
