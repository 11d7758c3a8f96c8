"""Running the demo: each scenario driven through fire() as its people would, its timeline loaded and checked."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from applications import attachments
from applications.programme_words import programme_words
from forms.samples import sample_form
from notifications.models import Delivery, Notification
from review import budgets, panels, scoring, site_visit
from review.models import PanelConclusion
from storage import documents
from web.core import archives, seed
from web.core.extensions import blob_store
from web.core.seed import DEMO_EXPERTS
from web.demo.files import demo_pdf, multipart_body, signature_png
from web.demo.scenarios import scenarios
from web.demo.steps import LEADER, MEMBER, DrawPanel, Fire, Refuse, Scenario, Score
from web.demo.waiting import at_the_desks
from workflow import audit, operations
from workflow.accounts import SYSTEM, Organisation, User
from workflow.db import as_utc, db
from workflow.definitions import Definition
from workflow.engine import fire
from workflow.errors import WorkflowError
from workflow.visibility import current_definitions, get_visible, programme_definitions
from workflow.workdays import SHANGHAI


@dataclass(frozen=True)
class TimelineEvent:
    seq: int
    occurred_at: dt.datetime
    actor: str
    role: str
    outcome: str  # created | attached | transition | denied | panel_drawn | declared | scored | sheet_submitted …
    trigger: str | None
    from_state: str | None
    to_state: str | None
    detail: str = ""


@dataclass
class Run:
    scenario: Scenario
    application_id: int | None = None
    definition: Definition | None = None
    state: str | None = None
    timeline: list[TimelineEvent] = field(default_factory=list)
    dissent: list[str] | None = None  # the criteria the recorded conclusion shows disagreement on
    problems: list[str] = field(default_factory=list)

    @property
    def expected_state(self) -> str:
        return self.scenario.states[-1]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Refusal:
    application_id: int | None
    actor: str
    trigger: str
    why: str
    expected: str
    got: str | None
    detail: str

    @property
    def ok(self) -> bool:
        return self.got == self.expected


@dataclass
class DemoResult:
    runs: list[Run]
    refusals: list[Refusal]
    audit: audit.Verification
    waiting: list[Run] = field(default_factory=list)  # left at a desk each, for the demo accounts to try
    ledger: list[budgets.LedgerLine] = field(default_factory=list)  # each budget against its awards and payments
    packages: list[tuple[int, list[str]]] = field(default_factory=list)  # each archived application's verdict
    mail: MailCount | None = None  # what the run told people, in the inbox and by mail

    @property
    def problems(self) -> list[str]:
        out = [f"{run.scenario.title}: {p}" for run in (*self.runs, *self.waiting) for p in run.problems]
        out += [
            f"{r.actor} {r.trigger} ({r.why}): expected {r.expected}, got {r.got or 'success'}"
            for r in self.refusals
            if not r.ok
        ]
        if not self.audit.ok:
            out.append(str(self.audit))
        out += [
            f"budget {b.programme} {b.year} does not balance with its awards" for b in self.ledger if not b.balances
        ]
        out += [f"archive package of #{app_id}: {'; '.join(found)}" for app_id, found in self.packages if found]
        if self.mail is not None and (self.mail.failed or not self.mail.sent):
            out.append(f"mail: {self.mail.sent} sent, {self.mail.failed} not delivered")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def end_states(self) -> dict[str, str | None]:
        return {f"{run.scenario.programme}/{run.scenario.kind}": run.state for run in self.runs}


@dataclass(frozen=True)
class MailCount:
    notifications: int  # inbox entries made
    sent: int  # mails delivered (to the SMTP server, or to the log where SMTP_URL is unset)
    failed: int  # mails not delivered (waiting for a retry, or failed for good)
    readers: int  # people told
    logged: bool  # SMTP_URL unset: the mail went to the log


def _mail_since(notification_id: int, delivery_id: int) -> MailCount:
    with db.transaction() as session:
        told = session.execute(
            select(func.count(), func.count(func.distinct(Notification.user_id))).where(
                Notification.id > notification_id
            )
        ).one()
        statuses = dict(
            session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.id > delivery_id, Delivery.channel == "email")
                .group_by(Delivery.status)
            ).all()
        )
    failed = sum(n for status, n in statuses.items() if status in ("pending", "sending", "dead"))
    logged = not current_app.config.get("SMTP_URL")
    return MailCount(told[0], statuses.get("sent", 0), failed, told[1], logged)


def _last_ids() -> tuple[int, int]:
    with db.transaction() as session:
        return (
            session.scalar(select(func.coalesce(func.max(Notification.id), 0))) or 0,
            session.scalar(select(func.coalesce(func.max(Delivery.id), 0))) or 0,
        )


def _user_ids() -> dict[str, int]:
    with db.transaction() as session:
        return {username: user_id for username, user_id in session.execute(select(User.username, User.id))}


def _form_of(user_id: int, sc: Scenario) -> dict[str, Any]:
    """The sample form, filled in with the applicant's own unit: name, credit code, district."""
    with db.transaction() as session:
        org = session.scalars(
            select(Organisation).join(User, User.organisation_id == Organisation.id).where(User.id == user_id)
        ).one()
        own = {"unit_name": org.name, "uscc": org.uscc, "district": org.district}
    return {**sample_form(sc.programme, sc.kind), **{k: v for k, v in own.items() if v}}


def _attach_documents(app_id: int, user_id: int, sc: Scenario, form: dict[str, Any]) -> list[str]:
    """Upload what the submission needs through the upload operation: the commitment as generated, scans as PDFs."""
    store = blob_store(current_app)
    with db.transaction() as session:
        definition = current_definitions(programme_definitions(session))[sc.programme]
    required = attachments.required_categories(definition, sc.kind, form)
    for category in required:
        if category == "authenticity_commitment":
            commitment = documents.AuthenticityCommitment(
                unit_name=form.get("unit_name", ""),
                uscc=form.get("uscc", ""),
                project=sc.project_name,
                programme=programme_words(definition),
            )
            filename, data = f"{category}.docx", documents.authenticity_commitment(commitment)
        else:
            filename, data = f"{category}.pdf", demo_pdf(category)
        boundary, body = multipart_body(category, filename, data)
        attachments.upload(
            user_id, app_id, io.BytesIO(body), boundary, store, max_bytes=current_app.config["MAX_UPLOAD_BYTES"]
        )
    return required


def _ensure_pool(users: dict[str, int]) -> None:
    """Put the demo's experts in the pool if they are not there yet (a second run changes nothing)."""
    seed.seed_demo_experts()


def _seat_panel(
    app_id: int, step: DrawPanel, users: dict[str, int], form: dict[str, Any]
) -> tuple[dict[str, int], list[tuple[str, str | None]]]:
    """Draw, declare and schedule; returns who leads and who sits beside them, and the events left."""
    draw = panels.draw_panel(users["coordinator"], app_id, size=step.size)
    events: list[tuple[str, str | None]] = [("panel_drawn", None)]
    for username in draw.drawn:
        panels.declare(users[username], app_id, conflict=False)
        events.append(("declared", None))
    panels.schedule_visit(
        users["coordinator"],
        app_id,
        _visit_later_today(),
        form.get("address") or "申报单位现场",
        "请能源管理负责人陪同",
    )
    events.append(("visit_scheduled", None))
    # Seed 002 §五(二): at the site the unit presents and demonstrates, the experts inspect and ask; the leader
    # notes both, then each expert scores.
    site_visit.record_steps(
        users[draw.drawn[0]],
        app_id,
        "申报单位汇报项目投资、系统架构、运行情况和节能降碳效果，并现场演示能源管理平台。",
        "专家查看一级（关口）计量布点和数据采集，抽查平台历史数据，询问能源公辅设备运行情况。",
    )
    events.append(("visit_steps", None))
    return {LEADER: users[draw.drawn[0]], MEMBER: users[draw.drawn[1]]}, events


def _visit_later_today() -> dt.datetime:
    """23:59 today in Shanghai: a visit must lie ahead, and the sheets open on its day (seed 002 §五(二): at the
    site). In the last minute of a day the demo waits for the next one to begin."""
    now = dt.datetime.now(SHANGHAI)
    last = dt.datetime.combine(now.date(), dt.time(23, 59), SHANGHAI)
    if now >= last - dt.timedelta(seconds=30):
        time.sleep((last + dt.timedelta(minutes=1, seconds=1) - now).total_seconds())
        last = dt.datetime.combine(dt.datetime.now(SHANGHAI).date(), dt.time(23, 59), SHANGHAI)
    return last


def _score(app_id: int, expert_id: int, step: Score) -> None:
    """Every criterion of the expert's own sheet conforms but those the step finds wanting; then sign and submit."""
    sheet = scoring.view_sheet(expert_id, app_id)
    wanting = dict(step.nonconform)
    results = [
        {"criterion": c["id"], "result": "nonconform", "note": wanting[c["id"]]}
        if c["id"] in wanting
        else {"criterion": c["id"], "result": "conform"}
        for category in sheet["categories"]
        for c in category["criteria"]
    ]
    scoring.save_answers(expert_id, app_id, results)
    with db.transaction() as session:
        expert = session.get(User, expert_id)
        assert expert is not None
        name = expert.display_name or expert.username
    scoring.submit_sheet(expert_id, app_id, signature_png(name), name, True, blob_store(current_app))


def _drive(run: Run, users: dict[str, int], refusals: list[Refusal]) -> list[tuple[str, str | None]]:
    """Play the scenario; returns the timeline it should leave: (outcome, trigger) per event."""
    sc = run.scenario
    form = _form_of(users[sc.applicant], sc)
    app = operations.create_application(users[sc.applicant], sc.programme, sc.kind, sc.project_name, form)
    run.application_id = app.id
    expected: list[tuple[str, str | None]] = [("created", None)]
    for _category in _attach_documents(app.id, users[sc.applicant], sc, form):
        expected.append(("attached", None))
    names = {user_id: username for username, user_id in users.items()}
    panel: dict[str, int] = {}

    def who(name: str) -> int:
        if name in (LEADER, MEMBER) and name not in panel:
            raise RuntimeError(f"{sc.title}: a step names the {name} before the panel is drawn")
        return panel[name] if name in (LEADER, MEMBER) else users[name]

    version, previous = app.version, app.version
    for step in sc.steps:
        if isinstance(step, Fire):
            result = fire(app.id, step.trigger, who(step.actor), step.payload, expected_version=version)
            previous, version = version, result.version
            expected.append(("transition", step.trigger))
            if result.state == "archived":
                expected.append(("archive_packed", None))  # the outbox packs it (eager here, a worker in production)
        elif isinstance(step, DrawPanel):
            seated, events = _seat_panel(app.id, step, users, form)
            panel.update(seated)
            expected += events
        elif isinstance(step, Score):
            _score(app.id, who(step.expert), step)
            expected += [("scored", None), ("sheet_submitted", None)]
        else:
            actor = who(step.actor)
            refusal = Refusal(app.id, names[actor], step.trigger, step.why, step.error.__name__, None, "")
            try:
                fire(
                    app.id,
                    step.trigger,
                    actor,
                    step.payload,
                    expected_version=previous if step.stale else version,
                )
            except WorkflowError as exc:
                refusal.got, refusal.detail = type(exc).__name__, exc.detail
            refusals.append(refusal)
            expected.append(("denied", step.trigger))
            if refusal.got is None:
                raise RuntimeError(f"{names[actor]} could {step.trigger} although {step.why} must be refused")
    return expected


def _load(run: Run) -> None:
    """Read the application's state and its timeline as the audit chain holds it."""
    if run.application_id is None:
        return
    with db.transaction() as session:
        app = get_visible(session, SYSTEM, run.application_id)
        if app is None:
            return
        run.state = app.state
        run.definition = programme_definitions(session)[app.programme_version_id]
        run.timeline = [
            TimelineEvent(
                e.seq,
                as_utc(e.occurred_at),
                e.actor,
                e.role,
                e.outcome,
                e.trigger,
                e.from_state,
                e.to_state,
                _detail(e.outcome, e.payload),
            )
            for e in operations.history(session, SYSTEM, app.id)
        ]
        conclusion = session.scalars(
            select(PanelConclusion).where(PanelConclusion.application_id == app.id).order_by(PanelConclusion.id.desc())
        ).first()
        if conclusion is not None:
            run.dissent = list(conclusion.consensus.get("disagreements", []))


def _detail(outcome: str, payload: dict[str, Any]) -> str:
    if outcome == "denied":
        return str(payload.get("error", ""))
    if outcome == "attached":
        return f"{payload.get('category')}: {payload.get('filename')} ({payload.get('size')} bytes)"
    if outcome == "assigned":
        return f"{payload.get('user')}{' (leader)' if payload.get('leader') else ''}"
    if outcome == "panel_drawn":
        return f"{', '.join(payload.get('members', []))} (leader {payload.get('leader')}, seed {payload.get('seed')})"
    if outcome == "declared":
        return "conflict of interest" if payload.get("conflict") else "no conflict of interest"
    if outcome == "visit_scheduled":
        when = dt.datetime.fromisoformat(payload["visit_at"]).astimezone(SHANGHAI)
        return f"{when:%Y-%m-%d %H:%M} at {payload.get('place')}"
    if outcome == "visit_steps":
        return "汇报与现场演示, 勘察提问 noted"
    if outcome == "scored":
        found = list(payload.get("criteria", {}).values())
        wanting = [c for c, result in payload.get("criteria", {}).items() if result == "nonconform"]
        return f"{len(found)} criteria" + (f", nonconform: {', '.join(wanting)}" if wanting else ", all conform")
    if outcome == "sheet_submitted":
        return f"signed by {payload.get('signed_name')}"
    if outcome == "archive_packed":
        digest = str(payload.get("sha256"))[:12]
        return f"package {payload.get('package')}: {payload.get('files')} files, sha256 {digest}…"
    return ""


def _check(run: Run, expected: list[tuple[str, str | None]]) -> None:
    """Compare the timeline and the end state with what the scenario should have left."""
    actual = [(e.outcome, e.trigger) for e in run.timeline]
    if actual != expected:
        run.problems.append(f"timeline {actual} differs from the expected {expected}")
    moves = [(e.from_state, e.to_state) for e in run.timeline if e.outcome == "transition"]
    path = run.scenario.states
    if moves != list(itertools.pairwise(path)):
        run.problems.append(f"states went {moves}, expected the path {' → '.join(path)}")
    if run.state != run.expected_state:
        run.problems.append(f"ended in '{run.state}', expected '{run.expected_state}'")
    concluded = any(isinstance(s, Fire) and s.trigger.startswith("conclude_") for s in run.scenario.steps)
    if concluded and run.dissent != list(run.scenario.dissent):
        run.problems.append(f"the conclusion keeps dissent on {run.dissent}, expected {list(run.scenario.dissent)}")


def run_demo() -> DemoResult:
    """Drive every scenario through fire(), then check timelines, end states, refusals and the audit chain; then
    leave one application waiting at each desk."""
    users = _user_ids()
    before = _last_ids()
    refusals: list[Refusal] = []
    runs = [_run(scenario, users, refusals) for scenario in scenarios()]
    waiting = [_run(scenario, users, refusals) for scenario in at_the_desks()]
    with db.transaction() as session:
        verification = audit.verify(session)
        ledger = budgets.ledger(session)
    packages = [(run.application_id, _package_problems(run.application_id)) for run in runs if run.state == "archived"]
    mail = _mail_since(*before)
    return DemoResult(runs, refusals, verification, waiting, ledger, packages, mail)


def _package_problems(application_id: int) -> list[str]:
    """The archived application's package, fetched and checked offline as `archive verify` does."""
    with db.transaction() as session:
        row = archives.latest(session, application_id)
        if row is not None:
            session.expunge(row)
    if row is None:
        return ["no archive package was made"]
    store = blob_store(current_app)
    with tempfile.TemporaryDirectory(prefix="demo-archive-") as tmp:
        file = archives.fetch(store, row, Path(tmp))
        verdict = archives.verify_file(file, archives.public_pem(current_app), application_id)
    return verdict.problems + archives.retention_problems(store, row)


def _run(scenario: Scenario, users: dict[str, int], refusals: list[Refusal]) -> Run:
    """One scenario, driven and checked."""
    run = Run(scenario)
    needed = {scenario.applicant} | {s.actor for s in scenario.steps if isinstance(s, Fire | Refuse)}
    if any(isinstance(s, DrawPanel) for s in scenario.steps):
        needed |= {"coordinator", *(e.username for e in DEMO_EXPERTS)}
    missing = sorted(needed - set(users) - {LEADER, MEMBER})
    if missing:
        run.problems.append(f"demo accounts missing: {', '.join(missing)} (run `manage.py init --demo`)")
        return run
    try:
        if "coordinator" in needed:
            _ensure_pool(users)
        expected = _drive(run, users, refusals)
    except (WorkflowError, RuntimeError) as exc:
        run.problems.append(f"stopped: {getattr(exc, 'detail', exc)}")
        _load(run)
        return run
    _load(run)
    _check(run, expected)
    return run
