"""Factories: organisations, users, a full cast of roles, and applications driven through fire()."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import select

from forms.samples import sample_form
from forms.uscc import ALPHABET, check_character
from review.prereview import CHECKS as PREREVIEW_CHECKS
from web.core.security import hash_password
from workflow import operations
from workflow.accounts import ROLES, Organisation, User
from workflow.db import db
from workflow.definitions import Definition
from workflow.engine import fire
from workflow.models import Application
from workflow.visibility import programme_definitions

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)
_rng = random.Random(20261121)


@cache
def password_hash() -> str:
    # argon2 is slow on purpose; hash once per run and share it.
    return hash_password(PASSWORD)


def uscc() -> str:
    """A fresh, valid unified social credit code (GB 32100 check digit)."""
    body = "9131" + "".join(_rng.choice(ALPHABET) for _ in range(13))
    return body + check_character(body)


def make_org(
    kind: str = "enterprise", district: str | None = "闵行区", name: str | None = None, group: int | None = None
) -> Organisation:
    with db.transaction() as session:
        org = Organisation(
            uscc=uscc(), name=name or f"测试单位{next(_counter)}", kind=kind, district=district, group_id=group
        )
        session.add(org)
        session.flush()
        return org


def make_user(
    role: str,
    *,
    organisation: Organisation | int | None = None,
    district: str | None = None,
    username: str | None = None,
    active: bool = True,
    language: str = "zh",
) -> User:
    org_id = organisation.id if isinstance(organisation, Organisation) else organisation
    name = username or f"{role}{next(_counter)}"
    with db.transaction() as session:
        user = User(
            username=name,
            display_name=username or role,
            email=f"{name}@example.test",
            password_hash=password_hash(),
            role=role,
            district=district,
            organisation_id=org_id,
            active=active,
            language=language,
        )
        session.add(user)
        session.flush()
        return user


@dataclass
class Cast:
    """Everyone a lifecycle needs. `by_role` maps a role to the account that plays it by default."""

    org: Organisation
    applicant: User
    district_reviewer: User
    other_district_reviewer: User
    municipal_reviewer: User
    agency_coordinator: User
    expert: User
    expert2: User
    finance_officer: User
    finance_officer2: User
    monitoring_reviewer: User
    market_regulator: User
    admin: User
    security_admin: User
    auditor: User
    other_applicant: User
    by_role: dict[str, User] = field(default_factory=dict)


def make_cast(district: str = "闵行区") -> Cast:
    org = make_org("enterprise", district)
    other_org = make_org("enterprise", "徐汇区")
    people: dict[str, Any] = {
        "applicant": make_user("applicant", organisation=org),
        "district_reviewer": make_user("district_reviewer", district=district),
        "other_district_reviewer": make_user("district_reviewer", district="徐汇区"),
        "municipal_reviewer": make_user("municipal_reviewer"),
        "agency_coordinator": make_user("agency_coordinator"),
        "expert": make_user("expert"),
        "expert2": make_user("expert"),
        "finance_officer": make_user("finance_officer"),
        "finance_officer2": make_user("finance_officer"),
        "monitoring_reviewer": make_user("monitoring_reviewer"),
        "market_regulator": make_user("market_regulator"),
        "admin": make_user("admin"),
        "security_admin": make_user("security_admin"),
        "auditor": make_user("auditor"),
        "other_applicant": make_user("applicant", organisation=other_org),
    }
    cast = Cast(org=org, **people)
    cast.by_role = {role: people[role] for role in ROLES}
    return cast


def new_application(
    cast: Cast,
    programme: str = "emc-acceptance",
    kind: str = "enterprise",
    project_name: str = "能源管理中心建设项目",
    attach: bool = True,
) -> int:
    """A draft ready to submit: a complete, valid form in the cast's district and, unless `attach` is False,
    every required attachment (submit is guarded by both)."""
    form = {**sample_form(programme, kind), "district": cast.org.district}
    if programme == "monitoring-fund":
        # Submit needs an open round and the unit on the year's key energy-using unit list (seed 000 §二).
        open_round_around_today(programme)
        list_key_unit(form["uscc"], int(form["key_unit_list_year"]), form["unit_name"])
    app = operations.create_application(cast.applicant, programme, kind, project_name, form)
    ensure_budget(programme)
    if attach:
        attach_required(flask_app(), cast, app.id)
    return app.id


def shanghai_today() -> dt.date:
    from workflow import workdays
    from workflow.db import utcnow

    return workdays.today_in_shanghai(utcnow())


def pin_to_version(application_id: int, version: int) -> None:
    """Pin the application to an older version of its programme, as if opened before the newer one shipped (the
    states are the same; the guards and effects are the older version's)."""
    from workflow.models import ProgrammeVersion

    with db.transaction() as session:
        app = session.get(Application, application_id)
        assert app is not None
        code = session.get(ProgrammeVersion, app.programme_version_id).code  # type: ignore[union-attr]
        older = session.scalars(
            select(ProgrammeVersion).where(ProgrammeVersion.code == code, ProgrammeVersion.version == version)
        ).one()
        app.programme_version_id = older.id


def ensure_budget(programme: str, amount: str = "100000000") -> None:
    """The programme's budget for this (Shanghai) year, so a proposal can reserve (issue 13); a row of its own,
    not audited, so tests that count an application's events are not disturbed (`budget set` is tested itself)."""
    from review import budgets
    from review.models import Budget

    with db.transaction() as session:
        year = budgets.budget_year()
        if budgets.locked_budget(session, programme, year) is None:
            session.add(Budget(programme=programme, year=year, amount=Decimal(amount), set_by="tests"))


def rule_award(application_id: int) -> str:
    """What the application's programme rule computes for its form (yuan), or a fixed sum for a version without."""
    from review import awards
    from workflow.visibility import programme_definitions

    with db.transaction() as session:
        app = session.get(Application, application_id)
        assert app is not None
        rule = awards.rule_of(programme_definitions(session)[app.programme_version_id])
        if rule is None:
            return "300000.00"  # within both samples' investment (180 万元, 36.80 万元)
        return f"{awards.compute(rule, app.form or {}).amount:.2f}"


def open_round_around_today(code: str) -> None:
    """Open a round of `code` around today (Shanghai) unless the newest version's window already holds today: the
    shipped 2022 round of the monitoring fund has closed. In the test's transaction, like everything else."""
    from workflow import workdays
    from workflow.accounts import SYSTEM
    from workflow.db import utcnow

    today = workdays.today_in_shanghai(utcnow())
    with db.transaction() as session:
        _row, definition = operations.current_programme(session, code)
        if definition.window is None or definition.window.contains(today):
            return
        operations.open_round(session, code, today - dt.timedelta(days=30), today + dt.timedelta(days=60), SYSTEM)


def list_key_unit(uscc_code: str, year: int, name: str = "测试重点用能单位") -> None:
    """Put a unit on the year's key energy-using unit list (as the market regulator's import would)."""
    from review import keyunits
    from workflow.accounts import SYSTEM

    with db.transaction() as session:
        if not keyunits.listed(session, uscc_code, year):
            unit = keyunits.ListedUnit(0, uscc_code, name, year)
            keyunits.import_units(session, SYSTEM, [unit], year, "tests.factories")


def working_day(days_from_today: int) -> dt.date:
    """The first working day at least `days_from_today` days after today in Shanghai: a supplement's due date
    must be one (weekends and the configured holidays are not)."""
    from workflow import workdays
    from workflow.db import utcnow

    day = workdays.today_in_shanghai(utcnow()) + dt.timedelta(days=days_from_today)
    while not workdays.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


# The session's app (set by conftest), for factories called outside an app context.
APP: Any = None


def flask_app() -> Any:
    from flask import current_app, has_app_context

    return current_app._get_current_object() if has_app_context() else APP


def definition_of(application_id: int) -> Definition:
    from workflow.models import Application

    with db.transaction() as session:
        app = session.get(Application, application_id)
        assert app is not None
        return programme_definitions(session)[app.programme_version_id]


def newest_definition(code: str) -> Definition:
    """The programme's newest published version: what a new application is created under."""
    with db.transaction() as session:
        return operations.current_programme(session, code)[1]


def state_of(application_id: int) -> tuple[str, int]:
    from workflow.models import Application

    with db.transaction() as session:
        app = session.get(Application, application_id)
        assert app is not None
        return app.state, app.version


def payload_for(trigger: str, application_id: int) -> dict[str, Any]:
    """A payload that satisfies the trigger's required fields and guards."""
    due = working_day(30).isoformat()
    return {
        "return_for_correction": {"comment": "请补充盖章页"},
        "reject": {"comment": "不符合申报条件"},
        "request_supplement": {"items": ["会计师事务所专项审计报告", "设备清单"], "due_date": due},
        "supply": {"answers": {"1": "已上传专项审计报告", "2": "已上传设备清单"}},
        "pass_prereview": {"checks": dict.fromkeys(PREREVIEW_CHECKS, "ok"), "opinion": "材料真实，同意上报"},
        "conclude_pass": {"comment": "各项核查内容符合要求"},
        "conclude_fail": {"comment": "三级表具接入率不足80%"},
        "propose_award": {"amount": rule_award(application_id)} if trigger == "propose_award" else {},
        "send_back": {"comment": "金额超出预算"},
        "refer_back": {"comment": "请复核接入数据"},
        # The guard's own tests pass without it; a unit with no meters would otherwise stop every journey here.
        "pass_technical_review": {"access_reason": "关口表具改造已签约，接入在建"},
        "record_payment": {
            "payment_reference": f"PAY-{application_id}",
            "amount": rule_award(application_id),
            "value_date": shanghai_today().isoformat(),
        }
        if trigger == "record_payment"
        else {},
    }.get(trigger, {})


def actor_for(cast: Cast, trigger: str, role: str) -> User | Any:
    """Who fires `trigger` as `role`: the second finance officer for four-eyes triggers."""
    from workflow.accounts import SYSTEM

    if role == "system":
        return SYSTEM
    if role == "finance_officer" and trigger in ("approve_award", "send_back"):
        return cast.finance_officer2
    return cast.by_role[role]


def path_to(definition: Definition, start: str, target: str, avoid: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Shortest list of (trigger, role) from `start` to `target`, preferring human roles."""
    queue: deque[tuple[str, list[tuple[str, str]]]] = deque([(start, [])])
    seen = {start}
    while queue:
        state, steps = queue.popleft()
        if state == target:
            return steps
        for t in definition.from_state(state):
            if t.dest in seen or t.trigger in avoid:
                continue
            seen.add(t.dest)
            role = next((r for r in t.roles if r != "system"), t.roles[0])
            queue.append((t.dest, [*steps, (t.trigger, role)]))
    raise ValueError(f"no path from {start} to {target} in {definition.label}")


def declare_clear(application_id: int, user_id: int) -> None:
    """The expert declares no conflict of interest (the file opens to them)."""
    from sqlalchemy import select

    from workflow.db import utcnow
    from workflow.models import Assignment

    with db.transaction() as session:
        row = session.scalars(
            select(Assignment).where(Assignment.application_id == application_id, Assignment.user_id == user_id)
        ).one()
        row.declared_at, row.conflict = utcnow(), False


def ensure_leader(cast: Cast, application_id: int, declare: bool = True) -> None:
    """Seat the cast's expert as the panel's leader, declared clear of conflicts (unless `declare` is False: the
    declaration is then the expert's own, on the page).

    In site verification with nobody on the panel yet, through the panel's own operations: the expert joins the
    pool, a panel of one is drawn under the first seed that puts them first, and they declare no conflict. Where
    no draw is possible (another state, or a panel already set up by the test) they are assigned directly."""
    from sqlalchemy import select

    from review import panels
    from review import pool as expert_pool
    from review.models import ExpertProfile
    from workflow.models import Application, Assignment

    with db.transaction() as session:
        app = session.get(Application, application_id)
        assert app is not None
        drawable = app.state == panels.PANEL_STATE and not session.scalar(
            select(Assignment.id).where(Assignment.application_id == application_id).limit(1)
        )
        in_pool = session.scalar(select(ExpertProfile.id).where(ExpertProfile.user_id == cast.expert.id))
    if drawable:
        if in_pool is None:
            expert_pool.add_expert(
                cast.admin, cast.expert.username, uscc(), "上海节能技术服务中心", "徐汇区", ["能源管理"]
            )
        with db.transaction() as session:
            app = session.get(Application, application_id)
            assert app is not None
            pool, _excluded = expert_pool.eligible_pool(session, app)
        names, digest = [p["username"] for p in pool], panels.pool_digest(pool)
        if cast.expert.username in names:
            seeds = (f"leader-{n}" for n in itertools.count())
            seed = next(s for s in seeds if panels.draw_members(s, digest, names, 1) == [cast.expert.username])
            panels.draw_panel(cast.agency_coordinator, application_id, 1, seed)
            if declare:
                panels.declare(cast.expert, application_id, False)
            return
    operations.assign(cast.agency_coordinator, application_id, cast.expert.id, leader=True)
    if declare:
        declare_clear(application_id, cast.expert.id)


def visit_day_arrives(application_id: int, place: str = "申报单位能源管理中心") -> None:
    """The site visit's day has come: the visit (scheduled now if none was) is moved to a minute ago.

    Sheets and conclusions open on the visit's day, and `panels.schedule_visit` only takes a future time; this is
    the calendar moving on, not a shortcut past a rule."""
    from sqlalchemy import select

    from review.models import SiteVisit
    from workflow.db import utcnow
    from workflow.models import Application

    with db.transaction() as session:
        # Lock the application first, as schedule_visit does: two threads racing here would both insert a visit.
        session.execute(select(Application.id).where(Application.id == application_id).with_for_update())
        visit = session.scalars(select(SiteVisit).where(SiteVisit.application_id == application_id)).one_or_none()
        if visit is None:
            visit = SiteVisit(application_id=application_id, place=place, note="")
            session.add(visit)
        visit.visit_at = utcnow() - dt.timedelta(minutes=1)


def on_site_visit_day(cast: Cast) -> int:
    """An application in site verification on the visit's day, the cast's expert leading its panel, declared clear."""
    app_id = new_application(cast)
    drive_to(cast, app_id, "site_verification")
    ensure_leader(cast, app_id)
    visit_day_arrives(app_id)
    return app_id


def note_visit_steps(application_id: int) -> None:
    """The panel's leader notes both steps of the visit (汇报与现场演示, 勘察提问)."""
    from sqlalchemy import select

    from review import site_visit
    from workflow.models import Assignment

    with db.transaction() as session:
        leader = session.scalars(
            select(Assignment.user_id).where(
                Assignment.application_id == application_id,
                Assignment.is_leader.is_(True),
                Assignment.active.is_(True),
            )
        ).one()
    site_visit.record_steps(
        leader, application_id, "申报单位汇报建设情况并现场演示平台", "查看关口计量点位，抽查数据采集"
    )


def score_sheet(expert: Any, application_id: int, result: str = "conform", submit: bool = True) -> None:
    """Give every criterion of the expert's sheet `result` (on the visit's day), then sign and submit it."""
    from review import scoring

    visit_day_arrives(application_id)
    sheet = scoring.view_sheet(expert, application_id)
    results = [{"criterion": c["id"], "result": result} for cat in sheet["categories"] for c in cat["criteria"]]
    scoring.save_answers(expert, application_id, results)
    if submit:
        scoring.submit_sheet(expert, application_id, SIGNATURE_PNG, expert.username, True, blob_store())


def blob_store() -> Any:
    from web.core.extensions import blob_store as store_of

    return store_of(flask_app())


def drive_to(cast: Cast, application_id: int, target: str) -> None:
    """Fire the shortest path of triggers that takes the application to `target`."""
    definition = definition_of(application_id)
    state, _ = state_of(application_id)
    for trigger, role in path_to(definition, state, target):
        if role == "expert":
            ensure_leader(cast, application_id)
            if trigger in ("conclude_pass", "conclude_fail"):
                score_sheet(cast.expert, application_id)
                note_visit_steps(application_id)
        fire(application_id, trigger, actor_for(cast, trigger, role), payload_for(trigger, application_id))


# --- attachments (storage) ----------------------------------------------------------------------------------

# A 1×1 PNG: what a drawn signature arrives as.
SIGNATURE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63606060f80f00010401005fe5c34b0000000049454e44ae426082"
)

# A minimal PDF: the upload is typed by its bytes, so a name ending in .pdf would not be enough.
SAMPLE_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def upload(
    app: Any,
    cast: Cast,
    application_id: int,
    category: str,
    data: bytes = SAMPLE_PDF,
    filename: str = "附件.pdf",
    actor: Any = None,
) -> Any:
    """Upload one file through storage's operation (streamed, typed, stored in the app's blob store, audited)."""
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from applications.attachments import upload as upload_attachment
    from web.core.extensions import blob_store

    boundary, body = encode_multipart({"category": category, "file": FileStorage(io.BytesIO(data), filename)})
    return upload_attachment(
        actor or cast.applicant,
        application_id,
        io.BytesIO(body),
        boundary.encode(),
        blob_store(app),
        max_bytes=app.config["MAX_UPLOAD_BYTES"],
    )


def attach_required(app: Any, cast: Cast, application_id: int, actor: Any = None) -> list[str]:
    """Upload a PDF for every category the application's submission requires; returns those categories."""
    from applications.attachments import required_categories
    from workflow.models import Application

    with db.transaction() as session:
        found = session.get(Application, application_id)
        assert found is not None
        kind, form = found.kind, dict(found.form)
    categories = required_categories(definition_of(application_id), kind, form)
    for category in categories:
        upload(app, cast, application_id, category, actor=actor)
    return categories


# --- review desks -------------------------------------------------------------------------------------------

# The district reviewer's record for a pass: every check done and in order (pass_prereview requires it).
PREREVIEW_OK: dict[str, Any] = {"checks": dict.fromkeys(PREREVIEW_CHECKS, "ok"), "opinion": "材料真实，同意上报"}
