"""The authorisation matrix (issue 16 item 1), generated from what the app publishes: every route of the URL map
with an object id, for every subject (each role, and outsiders of another organisation, district or panel), on
objects of every state; a denial must answer exactly as the same request with an id that does not exist.

The expectation comes from POLICY below, written in the seeds' terms and independently of workflow.visibility, so
the matrix fails when the code lets someone see what the policy does not. A route whose parameters the generator
cannot fill fails the generator (`UnknownParameter`) instead of being skipped: a new route is covered, or it says
what it needs."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.support.api import MISSING_ID
from tests.support.shell import openapi_document, url_map
from workflow.accounts import ROLES, User

# --- the routes -------------------------------------------------------------------------------------------------

REQUEST_ID = re.compile(r"\b[0-9a-f]{32}\b")
PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\([^>]*\))?:)?(?P<name>\w+)>")

# Parameters naming somebody's object: the kind of object each names. The matrix binds them to seeded objects and
# compares every denial with the same request on MISSING_ID.
OBJECT_PARAMS: dict[str, str] = {
    "application_id": "application",
    "attachment_id": "attachment",
    "snapshot_id": "snapshot",  # a frozen meter-evidence snapshot of an application
    "photo_id": "photo",  # a site-verification photo on an expert's checklist sheet
    "number": "revision",  # a revision of an application (its number within the application)
    "build_id": "binder",  # a binder build of an application
    "notification_id": "notification",  # one reader's inbox entry
    "delivery_id": "delivery",  # a mail delivery (administrators resend the dead)
    "draft_id": "draft",  # a round's draft programme version
    "user_id": "user",  # a person's account
}

# Parameters naming published reference data that belongs to nobody, with the value filled in. The object a route
# names is its object parameter; these only complete the URL.
REFERENCE_PARAMS: dict[str, str] = {
    "section": "applicant",  # a form section's slug, the same in every programme (forms/sections.py)
    "trigger": "withdraw",  # a trigger both programmes publish
    "chart": "daily",  # a picture of an evidence snapshot (meters/charts.py)
    "fmt": "svg",
    "code": "emc-acceptance",  # a published programme (GET /api/v1/programmes lists them to everyone)
    "version": "3",
    "kind": "deadline_soon",  # a mail template's kind and language (the catalogue in notifications/kinds.py)
    "language": "zh",
}

# Routes with parameters but no object of anyone's behind them. Short, each with its reason.
ALLOW_LIST: dict[str, str] = {
    "/static/<path:filename>": "the stylesheets and scripts, public by design",
    "/api/v1/problems/<code>": "the problem types' documentation, public by design (linked from every error)",
}


class UnknownParameter(AssertionError):
    """A route has a parameter the matrix cannot fill: say what it names in OBJECT_PARAMS or REFERENCE_PARAMS."""


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    params: tuple[str, ...]
    body: str  # "json", "multipart", "form" or "none"

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")

    @property
    def objects(self) -> tuple[str, ...]:
        return tuple(OBJECT_PARAMS[p] for p in self.params if p in OBJECT_PARAMS)

    def url(self, values: dict[str, Any]) -> str:
        return PARAM.sub(lambda m: str(values[m.group("name")]), self.rule)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def _openapi_path(rule: str) -> str:
    return PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.removeprefix("/api/v1"))


def _body_kind(method: str, rule: str, document: dict[str, Any]) -> str:
    if method in ("GET", "DELETE"):
        return "none"
    if not rule.startswith("/api/"):
        return "form"
    operation = document.get("paths", {}).get(_openapi_path(rule), {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    return "multipart" if "multipart/form-data" in content else "json"


def routes(app: Flask) -> tuple[list[Route], list[Route]]:
    """(object routes, reference routes) of what the app publishes: its URL map and its OpenAPI document."""
    return classify(url_map(app), openapi_document(app))


def classify(lines: list[str], document: dict[str, Any]) -> tuple[list[Route], list[Route]]:
    """(object routes, reference routes) of 'METHOD /rule' lines. Every parameter must be known: an unknown one
    raises UnknownParameter, naming the route."""
    with_objects: list[Route] = []
    reference_only: list[Route] = []
    unknown: list[str] = []
    for line in lines:
        method, rule = line.split(" ", 1)
        params = tuple(m.group("name") for m in PARAM.finditer(rule))
        if not params or rule in ALLOW_LIST:
            continue
        strange = [p for p in params if p not in OBJECT_PARAMS and p not in REFERENCE_PARAMS]
        if strange:
            unknown.append(f"{line}: {', '.join(strange)}")
            continue
        route = Route(method, rule, params, _body_kind(method, rule, document))
        (with_objects if route.objects else reference_only).append(route)
    if unknown:
        raise UnknownParameter(
            "the authorisation matrix cannot fill these routes' parameters; name each in tests/support/matrix.py "
            "(OBJECT_PARAMS: whose object it is; REFERENCE_PARAMS: published data; ALLOW_LIST: why none):\n  "
            + "\n  ".join(unknown)
        )
    return with_objects, reference_only


# --- who asks, and what they ask about ------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    label: str
    user: User | None  # None: anonymous

    @property
    def role(self) -> str | None:
        return self.user.role if self.user is not None else None


@dataclass(frozen=True)
class AppSpec:
    """A seeded application as the policy reads it: where it is, where it has been, whose it is, who sits on it."""

    id: int
    programme: str
    state: str
    passed: frozenset[str]
    organisation_id: int
    district: str | None
    panel: frozenset[int]  # experts seated and declared clear of conflicts
    undeclared: frozenset[int]  # experts seated who have not declared yet
    marker: str = ""  # its project name, unique and ASCII: found in any page, JSON, sheet or document that shows it

    def __str__(self) -> str:
        return f"{self.programme}:{self.state}#{self.id}"


@dataclass(frozen=True)
class Obj:
    """One object a route can name: the values of its parameters and what the policy needs to judge it."""

    kind: str
    values: dict[str, Any]
    application: AppSpec | None = None
    owner_id: int | None = None  # an inbox entry's reader
    author_id: int | None = None  # a photo's expert
    label: str = ""

    def __str__(self) -> str:
        return self.label or f"{self.kind} {self.values}"


@dataclass
class World:
    subjects: list[Subject]
    objects: dict[str, list[Obj]] = field(default_factory=dict)


# --- the policy: who may open what ----------------------------------------------------------------------------

# Who opens an application, by programme and role. Seed 002 §五 (能源管理中心 acceptance): the project's local
# authority pre-reviews it (（一）材料初审: the district, or a group company for its units), the commission checks
# completeness, a third party's experts verify on site (（二）); seed 000 (沪市监计量〔2022〕330号) for the monitoring
# fund's reviewers. The applicant works on its own organisation's files, drafts included; reviewers, the agency and
# oversight see what has been submitted, the district only its district, experts only the files of panels they sit
# on once they have declared no conflict of interest, finance only from the funding review on (issue 10). A role
# not named here sees nothing of that programme (security_admin manages accounts, not files).
POLICY: dict[str, dict[str, str]] = {
    "emc-acceptance": {
        "applicant": "own organisation",
        "district_reviewer": "submitted, in the district",
        "municipal_reviewer": "submitted",
        "agency_coordinator": "submitted",
        "expert": "submitted, on the panel",
        "finance_officer": "from the funding review",
        "admin": "submitted",
        "auditor": "submitted",
    },
    "monitoring-fund": {
        "applicant": "own organisation",
        "monitoring_reviewer": "submitted",
        "market_regulator": "submitted",
        "finance_officer": "from the funding review",
        "admin": "submitted",
        "auditor": "submitted",
    },
}
DRAFT = "draft"
# The funding review and the states only it leads to; an archived file once it has been through the review.
FUNDING = frozenset({"funding_review", "award_proposed", "award_approved", "paid"})
# Site photos: the panel's experts (their own, issue 12), and those who commission, check and oversee the visit.
PHOTO_READERS = frozenset({"municipal_reviewer", "agency_coordinator", "admin", "auditor"})
# Mail deliveries and round drafts are the administrator's alone.
ADMINISTRATORS = frozenset({"admin"})
# Accounts are managed by the administrator (people) and the security administrator (their second factor, issue 16).
ACCOUNT_MANAGERS = frozenset({"admin", "security_admin"})


def sees_application(subject: Subject, app: AppSpec) -> bool:
    user = subject.user
    if user is None or not user.active:
        return False
    rule = POLICY[app.programme].get(user.role)
    if rule == "own organisation":
        return user.organisation_id == app.organisation_id
    if app.state == DRAFT or rule is None:
        return False
    if rule == "submitted":
        return True
    if rule == "submitted, in the district":
        return user.district is not None and user.district == app.district
    if rule == "submitted, on the panel":
        return user.id in app.panel
    if rule == "from the funding review":
        return app.state in FUNDING or (app.state == "archived" and "funding_review" in app.passed)
    raise AssertionError(f"unknown rule {rule!r}")


def allowed(subject: Subject, obj: Obj) -> bool:
    """Whether the policy lets `subject` know that `obj` exists."""
    user = subject.user
    if obj.kind == "notification":
        return user is not None and user.id == obj.owner_id
    if obj.kind in ("delivery", "draft"):
        return user is not None and user.role in ADMINISTRATORS
    if obj.kind == "user":
        return user is not None and (user.role in ACCOUNT_MANAGERS or user.id == obj.owner_id)
    assert obj.application is not None, obj
    if not sees_application(subject, obj.application):
        return False
    if obj.kind == "photo":
        assert user is not None
        return user.role in PHOTO_READERS or user.id == obj.author_id
    return True  # attachments, revisions, snapshots and binders go with their application


# Pairs where the subject legitimately knows the object exists without seeing it, and the routes that may then
# answer differently from a missing id (403, or a page of their own): an expert drawn onto a panel who has not yet
# declared on a conflict of interest is told whose file it is (to judge the conflict) and declares on it.
KNOWN_ROUTES = frozenset(
    {
        "POST /applications/<int:application_id>/panel/declaration",
        "POST /api/v1/applications/<int:application_id>/panel/declaration",
    }
)


def knows(subject: Subject, obj: Obj) -> bool:
    app = obj.application
    return bool(obj.kind == "application" and app and subject.user and subject.user.id in app.undeclared)


# --- asking ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    location: str
    body: str

    def short(self) -> str:
        where = f" → {self.location}" if self.location else ""
        return f"{self.status} {self.content_type}{where} {self.body[:160]!r}"


def answer(response: Any) -> Answer:
    """What the response tells its reader; each request's own id (in problem documents, error pages) put aside."""
    data = response.get_data()
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError:
        body = f"<{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}>"
    body = REQUEST_ID.sub("{request_id}", body)
    return Answer(response.status_code, response.mimetype or "", response.headers.get("Location", ""), body)


def send(client: Any, route: Route, values: dict[str, Any], headers: dict[str, str]) -> Answer:
    path = route.url(values)
    kwargs: dict[str, Any] = {"method": route.method, "headers": headers}
    if route.body == "json":
        kwargs["json"] = {}
    elif route.body == "multipart":
        kwargs["data"] = {}
        kwargs["content_type"] = "multipart/form-data"
    elif route.body == "form":
        kwargs["data"] = {}
    try:
        response = client.open(path, **kwargs)
    except Exception as exc:  # the test app propagates what production would answer as a 500
        return Answer(500, "unhandled exception", "", f"{type(exc).__name__}: {exc}")
    return answer(response)


def missing_values(route: Route, values: dict[str, Any]) -> dict[str, Any]:
    """The same parameters, each object id replaced by an id of its own that does not exist."""
    missing: dict[str, Any] = {}
    for n, (name, value) in enumerate(values.items()):
        missing[name] = MISSING_ID + n if name in OBJECT_PARAMS else value
    return missing


def as_if(expected: Answer, missing: dict[str, Any], values: dict[str, Any]) -> Answer:
    """The missing id's answer with each missing id put back to the real one: where an answer echoes the id (the
    path in a problem's `instance`, a login's `next`, "application 7 not found"), that is the only difference
    allowed."""

    def put_back(text: str) -> str:
        for name, value in missing.items():
            if name in OBJECT_PARAMS:
                text = re.sub(rf"(?<!\d){value}(?!\d)", str(values[name]), text)
        return text

    return Answer(expected.status, expected.content_type, put_back(expected.location), put_back(expected.body))


def values_for(route: Route, obj: Obj) -> dict[str, Any] | None:
    """The route's parameters for `obj`, or None when the object does not fill them all (another kind)."""
    values: dict[str, Any] = {}
    for name in route.params:
        if name in OBJECT_PARAMS:
            if name not in obj.values:
                return None
            values[name] = obj.values[name]
        else:
            values[name] = REFERENCE_PARAMS[name]
    return values


def bindings(route: Route, world: World) -> list[Obj]:
    """The objects a route is asked about: those of the kind its innermost object parameter names, which carry
    every object parameter the route has (an attachment carries no application id; a revision carries both)."""
    kind = route.objects[-1]
    found = [o for o in world.objects.get(kind, []) if values_for(route, o) is not None]
    if not found:
        raise UnknownParameter(f"{route}: the matrix seeded no {kind} that fills {route.params}")
    return found


@dataclass(frozen=True)
class Violation:
    subject: str
    route: str
    obj: str
    what: str

    def __str__(self) -> str:
        return f"{self.subject:<40} {self.route:<78} {self.obj:<34} {self.what}"


@dataclass
class Client:
    """How one subject asks: a logged-in browser for pages, bearer headers for the API."""

    pages: Any
    api: Any
    headers: dict[str, str]

    def ask(self, route: Route, values: dict[str, Any]) -> Answer:
        if route.api:
            return send(self.api, route, values, self.headers)
        got = send(self.pages, route, values, {})
        if 300 <= got.status < 400:
            # A redirect leaves its flashed message for the next page: it is part of this answer, not of that one.
            with self.pages.session_transaction() as session:
                flashed = session.pop("_flashes", None)
            if flashed:
                got = Answer(got.status, got.content_type, got.location, f"{got.body}\nflashed: {flashed!r}")
        return got


# Each (route, object) is asked by this many of the subjects denied it, the least asked on that route first, and
# every subject denied anything on a route asks it at least once: so every route meets every object (every state
# of emc-acceptance, the monitoring fund's stages) and every subject meets every route, in tens of seconds.
# MATRIX_FULL=1 (per_pair=None) asks every denied subject everything: some minutes, for a deliberate full run.
PER_PAIR = 1


def _chosen(route: Route, objs: list[Obj], subjects: list[Subject], per_pair: int | None) -> list[tuple[Subject, Obj]]:
    denied = {
        o: [s for s in subjects if not allowed(s, obj) and not (knows(s, obj) and str(route) in KNOWN_ROUTES)]
        for o, obj in enumerate(objs)
    }
    if per_pair is None:
        return [(s, objs[o]) for o, group in denied.items() for s in group]
    asked: dict[str, int] = {}
    pairs: list[tuple[Subject, Obj]] = []
    for o, group in denied.items():
        for subject in sorted(group, key=lambda s: asked.get(s.label, 0))[:per_pair]:
            asked[subject.label] = asked.get(subject.label, 0) + 1
            pairs.append((subject, objs[o]))
    for o, group in denied.items():
        for subject in group:
            if subject.label not in asked:
                asked[subject.label] = 1
                pairs.append((subject, objs[o]))
    return pairs


def check(
    world: World, object_routes: list[Route], clients: dict[str, Client], per_pair: int | None = PER_PAIR
) -> tuple[list[Violation], int]:
    """Denied (subject, route, object) triples compared with the same request on a missing id; returns the
    violations and how many were compared."""
    violations: list[Violation] = []
    compared = 0
    baseline: dict[tuple[str, str, str], Answer] = {}
    for route in object_routes:
        began = time.monotonic()
        for subject, obj in _chosen(route, bindings(route, world), world.subjects, per_pair):
            client = clients[subject.label]
            values = values_for(route, obj)
            assert values is not None
            missing = missing_values(route, values)
            key = (subject.label, str(route), route.url(missing))
            if key not in baseline:
                baseline[key] = client.ask(route, missing)
            got = client.ask(route, values)
            compared += 1
            problem = _judge(got, as_if(baseline[key], missing, values))
            if problem:
                violations.append(Violation(subject.label, str(route), str(obj), problem))
        TIMES[str(route)] = time.monotonic() - began
    return violations, compared


TIMES: dict[str, float] = {}  # seconds per route in the last check, to see where the time goes


def _judge(got: Answer, expected: Answer) -> str | None:
    if got.status >= 500:
        return f"server error: {got.short()}"
    if 200 <= got.status < 300:
        return f"unauthorised {got.status}: {got.short()}"
    if 300 <= got.status < 400 and got.location != expected.location:
        return f"redirect into content: {got.short()} (missing id: {expected.short()})"
    if got != expected:
        return f"differs from a missing id: {_difference(got, expected)}"
    return None


def _difference(got: Answer, expected: Answer) -> str:
    if (got.status, got.content_type, got.location) != (expected.status, expected.content_type, expected.location):
        return f"{got.short()}  ≠  {expected.short()}"
    at = next((i for i, (x, y) in enumerate(zip(got.body, expected.body, strict=False)) if x != y), None)
    at = min(len(got.body), len(expected.body)) if at is None else at
    start = max(0, at - 60)
    shown, wanted = got.body[start : at + 80], expected.body[start : at + 80]
    return f"{got.status} {got.content_type}, body at {at}: {shown!r}  ≠  {wanted!r}"


def readable_text(data: bytes) -> str:
    """A response's text: a page or JSON as it is; a sheet or document (a zip: .xlsx, .docx) as its XML parts."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            return "\n".join(packed.read(n).decode("utf-8", "replace") for n in packed.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "replace")


def list_routes(app: Flask) -> list[Route]:
    """Every GET route without parameters: lists, desks, exports, dashboards and the public pages alike."""
    found = []
    for line in url_map(app):
        method, rule = line.split(" ", 1)
        if method == "GET" and not PARAM.search(rule):
            found.append(Route(method, rule, (), "none"))
    return found


def check_lists(world: World, routes: list[Route], clients: dict[str, Client]) -> list[Violation]:
    """No route without an id shows a subject any application the policy hides from it (its project name, unique
    in this world, appears nowhere in the page, the JSON, the sheet or the document). An expert drawn but not yet
    declared is told whose file it is (to judge a conflict of interest), so that one may be named to them."""
    violations: list[Violation] = []
    for route in routes:
        for subject in world.subjects:
            hidden = [
                o.application
                for o in world.objects["application"]
                if o.application and not allowed(subject, o) and not knows(subject, o)
            ]
            client = clients[subject.label]
            try:
                response = (
                    client.api.get(route.rule, headers=client.headers) if route.api else client.pages.get(route.rule)
                )
            except Exception as exc:  # the test app propagates what production would answer as a 500
                violations.append(Violation(subject.label, str(route), "-", f"server error: {exc!r}"))
                continue
            if response.status_code >= 500:
                violations.append(Violation(subject.label, str(route), "-", f"server error {response.status_code}"))
                continue
            text = readable_text(response.get_data())
            for app in hidden:
                if app.marker in text:
                    violations.append(Violation(subject.label, str(route), str(app), "lists an application it hides"))
    return violations


def subjects_cover_roles(subjects: list[Subject]) -> None:
    """Every role of workflow.accounts.ROLES asks (a new role is in the matrix the day it exists)."""
    have = {s.role for s in subjects}
    absent = [r for r in ROLES if r not in have]
    assert not absent, f"the matrix has no subject for the roles {absent}: add them to its subjects"


# --- the world: objects of every state, and who asks about them -----------------------------------------------

# One application in each state of emc-acceptance (and one archived after payment); of the monitoring fund, a draft,
# one at each of its own desks' first stage and one in the funding review (its later states are emc-acceptance's).
PROGRAMMES = ("emc-acceptance", "monitoring-fund")
STATES: dict[str, tuple[str, ...] | None] = {
    "emc-acceptance": None,  # all
    "monitoring-fund": ("draft", "technical_review", "funding_review"),
}


def _spec(app_id: int, programme: str, passed: Iterable[str], marker: str) -> AppSpec:
    from workflow.db import db
    from workflow.models import Application, Assignment

    with db.transaction() as session:
        row = session.get(Application, app_id)
        assert row is not None
        seats = session.execute(
            select(Assignment.user_id, Assignment.declared_at, Assignment.conflict).where(
                Assignment.application_id == app_id, Assignment.active.is_(True)
            )
        ).all()
        return AppSpec(
            id=app_id,
            programme=programme,
            state=row.state,
            passed=frozenset(passed) | {row.state},
            organisation_id=row.organisation_id,
            district=row.district,
            panel=frozenset(u for u, declared, conflict in seats if declared is not None and not conflict),
            undeclared=frozenset(u for u, declared, _c in seats if declared is None),
            marker=marker,
        )


def _driven(cast: Any, programme: str, target: str, marker: str, via: str | None = None) -> tuple[int, list[str]]:
    """A new application of `programme` named `marker`, driven to `target` (through `via` first); the states it
    passed."""
    from tests import factories

    definition = factories.newest_definition(programme)
    app_id = factories.new_application(cast, programme, definition.applicant_kinds[0], marker)
    passed = [definition.initial]
    for stop in [s for s in (via, target) if s]:
        state, _ = factories.state_of(app_id)
        for trigger, _role in factories.path_to(definition, state, stop):
            state = next(t.dest for t in definition.from_state(state) if t.trigger == trigger)
            passed.append(state)
        factories.drive_to(cast, app_id, stop)
    return app_id, passed


def build_world(app: Flask, cast: Any) -> World:
    """Applications of cast.org (闵行区) in every state of both programmes, and what hangs off them: attachments,
    revisions, evidence snapshots, a site photo, a binder, an inbox entry, a mail delivery, a round's draft."""
    from applications import binder_builds
    from applications.models import Attachment, BinderBuild
    from meters.models import EvidenceSnapshot
    from notifications.models import Delivery, Notification
    from review import photos
    from review.checklists import load as load_checklist
    from review.models import ChecklistPhoto, Revision
    from tests import factories
    from tests.support.uploads import png
    from workflow import drafts, operations
    from workflow.db import db

    specs: list[AppSpec] = []
    for programme in PROGRAMMES:
        definition = factories.newest_definition(programme)
        for state in STATES[programme] or tuple(definition.states):
            marker = f"MATRIXQ{len(specs):02d}Z"
            app_id, passed = _driven(cast, programme, state, marker)
            specs.append(_spec(app_id, programme, passed, marker))
        if programme == "emc-acceptance":
            # Archived after payment as well: finance sees that one (it passed the funding review). One is enough:
            # each archived file is packed (binders and all) by the archive task, the dearest part of this world.
            marker = f"MATRIXQ{len(specs):02d}Z"
            app_id, passed = _driven(cast, programme, "archived", marker, via="paid")
            specs.append(_spec(app_id, programme, passed, marker))

    # The file in site verification: the cast's expert leads its panel (declared), takes a photo on the visit's
    # day; a second expert is drawn onto it and has not yet declared.
    on_site = next(s for s in specs if s.state == "site_verification")
    factories.ensure_leader(cast, on_site.id)
    factories.visit_day_arrives(on_site.id)
    criterion = load_checklist("emc-checklist-enterprise@1").criteria_for("enterprise")[0].id
    photos.add_photo(cast.expert, on_site.id, criterion, png(64, 48), factories.blob_store(), client_id="matrix")
    undeclared = factories.make_user("expert", username="matrix_undeclared_expert")
    operations.assign(cast.agency_coordinator, on_site.id, undeclared.id)
    specs = [_spec(s.id, s.programme, s.passed, s.marker) if s.id == on_site.id else s for s in specs]

    paid = next(s for s in specs if s.programme == "emc-acceptance" and s.state == "paid")
    binder_builds.request(cast.municipal_reviewer, paid.id)
    with db.transaction() as session:
        admin = session.merge(cast.admin)
        draft_id = drafts.start_draft(session, admin, "emc-acceptance").id

    world = World(subjects=subjects(cast, undeclared))
    by_id = {s.id: s for s in specs}
    world.objects["application"] = [Obj("application", {"application_id": s.id}, s, label=str(s)) for s in specs]
    with db.transaction() as session:
        ids = list(by_id)

        def per_app(kind: str, model: Any, id_param: str, extra: Callable[[Any], dict[str, Any]] | None = None) -> None:
            rows = session.scalars(select(model).where(model.application_id.in_(ids)).order_by(model.id)).all()
            first: dict[int, Any] = {}
            for row in rows:
                first.setdefault(row.application_id, row)
            world.objects[kind] = [
                Obj(
                    kind,
                    {id_param: row.id, **(extra(row) if extra else {})},
                    by_id[app_id],
                    label=f"{kind} of {by_id[app_id]}",
                )
                for app_id, row in first.items()
            ]

        per_app("attachment", Attachment, "attachment_id")
        per_app("snapshot", EvidenceSnapshot, "snapshot_id", lambda r: {"application_id": r.application_id})
        per_app("binder", BinderBuild, "build_id", lambda r: {"application_id": r.application_id})
        revisions = session.scalars(select(Revision).where(Revision.application_id.in_(ids))).all()
        first_revision = {r.application_id: r for r in sorted(revisions, key=lambda r: -r.number)}
        world.objects["revision"] = [
            Obj("revision", {"application_id": a, "number": r.number}, by_id[a], label=f"revision of {by_id[a]}")
            for a, r in sorted(first_revision.items())
        ]
        photo = session.scalars(select(ChecklistPhoto).order_by(ChecklistPhoto.id)).first()
        assert photo is not None
        world.objects["photo"] = [
            Obj("photo", {"photo_id": photo.id, "application_id": on_site.id}, by_id[on_site.id],
                author_id=cast.expert.id, label=f"photo of {by_id[on_site.id]}")
        ]  # fmt: skip
        note = session.scalars(select(Notification).order_by(Notification.id)).first()
        assert note is not None, "no inbox entry seeded"
        world.objects["notification"] = [
            Obj("notification", {"notification_id": note.id}, owner_id=note.user_id, label="someone's inbox entry")
        ]
        delivery = session.scalars(select(Delivery.id).order_by(Delivery.id)).first()
        assert delivery is not None, "no mail delivery seeded"
        world.objects["delivery"] = [Obj("delivery", {"delivery_id": delivery}, label="a mail delivery")]
        world.objects["draft"] = [Obj("draft", {"draft_id": draft_id}, label="a round's draft")]
        world.objects["user"] = [
            Obj("user", {"user_id": cast.applicant.id}, owner_id=cast.applicant.id, label="the applicant's account")
        ]
    return world


def subjects(cast: Any, undeclared: User) -> list[Subject]:
    """Each role as the cast plays it, and the outsiders: another organisation, district, panel; anonymous."""
    labels = {
        "applicant": "applicant (the owner)",
        "district_reviewer": "district_reviewer (the file's district)",
        "expert": "expert (on the panel)",
    }
    found = [Subject(labels.get(role, role), cast.by_role[role]) for role in ROLES]
    found += [
        Subject("applicant of another organisation", cast.other_applicant),
        Subject("district_reviewer of another district", cast.other_district_reviewer),
        Subject("expert not on the panel", cast.expert2),
        Subject("expert drawn, not yet declared", undeclared),
        Subject("anonymous", None),
    ]
    subjects_cover_roles(found)
    return found
