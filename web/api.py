"""JSON API under /api/v1: bearer tokens, RFC 7807 problems, thin views over workflow's operations.

Reads use `db.session`; every change goes through an operation (its own transaction). A view never reads
with `db.session` before it writes: on SQLite the read would hold the write lock the operation waits for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forms.fields import form_version
from forms.rules import computed, validate
from forms.schema import json_schema
from storage import application_form_doc, attachments, authorisers, sealed
from storage.attachments import content_disposition
from storage.models import Attachment, category_label
from storage.programme_words import programme_words
from web import openapi, security
from web.extensions import csrf
from web.problems import ApiProblem, describe, if_match_version, install, language, read_body
from web.transfers import attachment_response, too_large_by_header, upload_from_request, upload_limit
from workflow import operations
from workflow.accounts import User
from workflow.db import db, iso_utc
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, fire
from workflow.errors import Forbidden, InvalidInput, NotFound, Problem
from workflow.models import Application, AuditEvent
from workflow.visibility import current_definitions, get_visible, programme_definitions, visible_applications

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens are never sent by a browser on its own, so cross-site requests cannot forge them.
csrf.exempt(bp)
install(bp)

PUBLIC_ENDPOINTS = frozenset({"api.issue_token", "api.openapi_document", "api.problem_type"})
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # keeps the offset within what every database accepts
MAX_ID = 2**31 - 1
MAX_IDEMPOTENCY_KEY = 200  # the column's width
MAX_PROJECT_NAME = 300  # the column's width, as create_application enforces

# Outside parties (the applicant, the third-party experts) see only their own refused attempts.


def _token_needed(detail: str, error: str | None = None) -> ApiProblem:
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return ApiProblem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


@bp.before_request
def _authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _token_needed("send 'Authorization: Bearer <token>'; get a token from POST /api/v1/auth/token")
    idle = dt.timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
    # Its own short transaction: the user is read once and the session is gone before any write.
    with db.transaction() as session:
        row = security.token_row(session, token.strip(), idle)
        user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None:
        raise _token_needed(
            "the token is invalid, expired, idle too long or revoked; get a new one from POST /api/v1/auth/token",
            "invalid_token",
        )
    g.api_user = user
    g.api_token_id = row.id


@bp.before_request
def _no_such_id() -> None:
    # Beyond the id column's range (a 32-bit integer on PostgreSQL) nothing exists; the database would refuse to
    # compare such an id, so answer here exactly as for any other missing application.
    application_id = (request.view_args or {}).get("application_id")
    if application_id is not None and application_id > MAX_ID:
        raise NotFound(f"application {application_id} not found")


def _user() -> User:
    return g.api_user  # type: ignore[no-any-return]


# --- serialisers --------------------------------------------------------------------------------------------


def _label(labels: dict[str, str], fallback: str) -> dict[str, str]:
    return {"zh": labels.get("zh") or labels.get("en") or fallback, "en": labels.get("en") or fallback}


def _state_label(definition: Definition, state: str | None) -> dict[str, str] | None:
    if state is None:
        return None
    return {"zh": definition.state_label(state, "zh"), "en": definition.state_label(state, "en")}


def _trigger_label(definition: Definition, trigger: str | None) -> dict[str, str] | None:
    if trigger is None:
        return None
    return {"zh": definition.trigger_label(trigger, "zh"), "en": definition.trigger_label(trigger, "en")}


def programme_json(definition: Definition) -> dict[str, Any]:
    return {
        "code": definition.code,
        "version": definition.version,
        "label": definition.label,
        "title": _label(definition.title, definition.code),
        "applicant_kinds": list(definition.applicant_kinds),
        "initial": definition.initial,
        "editable": list(definition.editable),
        "states": [
            {"name": s.name, "label": _label(s.label, s.name), "terminal": s.terminal}
            for s in definition.states.values()
        ],
        "triggers": [
            {
                "trigger": t.trigger,
                "label": _label(t.label, t.trigger),
                "sources": list(t.sources),
                "dest": t.dest,
                "roles": list(t.roles),
                "requires": list(t.requires),
            }
            for t in definition.transitions
        ],
        # The programme's own words and dates (seed sections in its file); what the seeds leave open, marked local.
        "authority": dict(definition.authority),
        "terms": dict(definition.terms),
        "fund": dict(definition.fund),
        "window": (
            {
                "opens": definition.window.opens.isoformat() if definition.window.opens else None,
                "closes": definition.window.closes.isoformat() if definition.window.closes else None,
            }
            if definition.window
            else None
        ),
        "local_settings": [
            {"key": s.key, "value": s.value, "label": {"zh": s.zh, "en": s.en}} for s in definition.local_settings
        ],
    }


def application_summary(app: Application, definition: Definition) -> dict[str, Any]:
    organisation = app.organisation
    return {
        "id": app.id,
        "programme": definition.label,
        "kind": app.kind,
        "project_name": app.project_name,
        "district": app.district,
        "organisation": {"id": organisation.id, "name": organisation.name, "uscc": organisation.uscc},
        "state": app.state,
        "state_label": _state_label(definition, app.state),
        "version": app.version,
        "created_at": iso_utc(app.created_at),
        "updated_at": iso_utc(app.updated_at),
        "submitted_at": iso_utc(app.submitted_at),
    }


def event_json(event: AuditEvent, definition: Definition) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": iso_utc(event.occurred_at),
        "actor": event.actor,
        "role": event.role,
        "outcome": event.outcome,
        "trigger": event.trigger,
        "trigger_label": _trigger_label(definition, event.trigger),
        "from_state": event.from_state,
        "from_state_label": _state_label(definition, event.from_state),
        "to_state": event.to_state,
        "to_state_label": _state_label(definition, event.to_state),
        "payload": event.payload,
        # Whether the applicant reads this transition's comment and payload (the definition's visibility).
        "visibility": (
            definition.visibility_of(event.trigger, event.from_state) if event.outcome == "transition" else None
        ),
    }


def _with_etag(response: Response, version: int) -> Response:
    response.set_etag(str(version))
    return response


# --- loading ------------------------------------------------------------------------------------------------


def _visible_or_404(application_id: int) -> tuple[Application, Definition]:
    """Through the one visibility function: not visible answers exactly as not existing."""
    definitions = programme_definitions(db.session)
    app = get_visible(db.session, _user(), application_id, definitions=definitions)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    return app, definitions[app.programme_version_id]


def _detail_response(application_id: int) -> Response:
    app, definition = _visible_or_404(application_id)
    body = application_summary(app, definition)
    body["form"] = app.form
    body["allowed_triggers"] = allowed_triggers(db.session, app, _user(), definition)
    # A draft keeps whatever was saved; what the rules say of it is told at once, not at submit time.
    form = form_version(definition.form)
    problems = validate(form, app.kind, app.form, complete=False, lang=language())
    body["form_problems"] = [p.as_dict() for p in problems]
    body["computed"] = computed(form, app.kind, app.form)
    authoriser = authorisers.current(db.session, app.id)
    # Masked only: the clear ID number appears in the letter the applicant downloads, nowhere else.
    body["credit_authoriser"] = (
        {"person_name": authoriser.person_name, "role": authoriser.role, "id_card_masked": authoriser.id_card_masked}
        if authoriser is not None
        else None
    )
    return _with_etag(jsonify(body), app.version)


def _positive_int(name: str, default: int, maximum: int | None = None) -> tuple[int, Problem | None]:
    raw = request.args.get(name)
    if raw is None:
        return default, None
    # Nine digits at most: int() of a 5,000-digit page raised ValueError (500) before any bound was checked.
    digits = raw.isascii() and raw.isdigit() and len(raw) <= 9
    if not digits or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        limit = f" up to {maximum}" if maximum else ""
        return default, Problem(name, "invalid", f"'{name}' is a whole number from 1{limit}; got {raw!r}")
    return int(raw), None


# --- views --------------------------------------------------------------------------------------------------


def _current_definitions() -> dict[str, Definition]:
    return current_definitions(programme_definitions(db.session))


@bp.get("/programmes")
def list_programmes() -> Response:
    """The current version of each programme: what a new application is created under."""
    return jsonify(items=[programme_json(d) for _, d in sorted(_current_definitions().items())])


@bp.get("/programmes/<code>/form-schema")
def programme_form_schema(code: str) -> Response:
    """The current form of a programme for one applicant kind, as JSON Schema (a complete submission)."""
    definition = _current_definitions().get(code)
    if definition is None:
        raise NotFound(f"programme '{code}' not found")
    kind = request.args.get("kind", "")
    if kind not in definition.applicant_kinds:
        allowed = ", ".join(definition.applicant_kinds)
        message = f"kind must be one of {allowed} for {code}, not '{kind}'"
        raise InvalidInput(message, [Problem("kind", "not_allowed" if kind else "required", message)])
    return jsonify(json_schema(form_version(definition.form), kind))


@bp.post("/applications")
def create_application() -> Response:
    body = read_body(
        {"programme": str, "kind": str, "project_name": str, "form": dict},
        required=("programme", "kind", "project_name"),
    )
    app = operations.create_application(
        _user(), body["programme"], body["kind"], body["project_name"], body.get("form", {}), request_id=g.request_id
    )
    response = jsonify(id=app.id, state=app.state, version=app.version)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_application", application_id=app.id)
    return _with_etag(response, app.version)


@bp.get("/applications")
def list_applications() -> Response:
    """The applications the caller may see, newest first; filters `state` and `programme` (a code)."""
    definitions = programme_definitions(db.session)
    page, page_problem = _positive_int("page", 1, MAX_PAGE)
    per_page, per_page_problem = _positive_int("per_page", 20, MAX_PER_PAGE)
    found = [p for p in (page_problem, per_page_problem) if p]
    query = visible_applications(db.session, _user())
    state = request.args.get("state")
    if state:
        if not any(state in d.states for d in definitions.values()):
            found.append(Problem("state", "unknown", f"'{state}' is not a state of any programme"))
        query = query.where(Application.state == state)
    programme = request.args.get("programme")
    if programme:
        ids = [pv_id for pv_id, d in definitions.items() if d.code == programme]
        if not ids:
            known = ", ".join(sorted({d.code for d in definitions.values()}))
            found.append(Problem("programme", "unknown", f"'{programme}' is not a programme; known: {known}"))
        query = query.where(Application.programme_version_id.in_(ids))
    if found:
        raise InvalidInput("; ".join(p.message for p in found), found)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(joinedload(Application.organisation))
        .order_by(Application.created_at.desc(), Application.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [application_summary(app, definitions[app.programme_version_id]) for app in rows]
    return jsonify(items=items, total=total, page=page, per_page=per_page)


@bp.get("/applications/<int:application_id>")
def get_application(application_id: int) -> Response:
    """One application with the triggers the caller may fire now; ETag is its version."""
    return _detail_response(application_id)


@bp.patch("/applications/<int:application_id>")
def update_application(application_id: int) -> Response:
    """Edit a draft: `form` is a JSON merge patch (null removes a field); If-Match names the version edited."""
    expected = if_match_version()
    body = read_body({"form": dict, "project_name": str})
    found = []
    if not body:
        found.append(Problem("form", "required", "send 'form' (a merge patch of the form) or 'project_name'"))
    name = body.get("project_name")
    if name is not None and not name.strip():
        found.append(Problem("project_name", "required", "project_name cannot be blank"))
    elif name is not None and len(name) > MAX_PROJECT_NAME:
        found.append(Problem("project_name", "too_long", f"project_name has at most {MAX_PROJECT_NAME} characters"))
    if found:
        raise InvalidInput("; ".join(p.message for p in found), found)
    operations.update_draft(
        _user(), application_id, body.get("form", {}), expected, project_name=name, request_id=g.request_id
    )
    return _detail_response(application_id)


@bp.post("/applications/<int:application_id>/transitions")
def fire_transition(application_id: int) -> Response:
    """Fire a trigger. `comment` is stored as payload["comment"]; Idempotency-Key makes a retry safe."""
    body = read_body({"trigger": str, "comment": str, "payload": dict, "expected_version": int}, required=("trigger",))
    payload = dict(body.get("payload", {}))
    if "comment" in body:
        payload["comment"] = body["comment"]
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key.strip()) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        message = f"Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} printable characters"
        raise InvalidInput(message, [Problem("Idempotency-Key", "invalid", message)])
    result = fire(
        application_id,
        body["trigger"],
        _user(),
        payload,
        expected_version=body.get("expected_version"),
        idempotency_key=key.strip() if key else None,
        request_id=g.request_id,
    )
    response = jsonify(result.as_dict())
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _with_etag(response, result.version)


@bp.get("/applications/<int:application_id>/history")
def application_history(application_id: int) -> Response:
    """The application's audit events in order, as `operations.shown_to` lets the caller see them."""
    _app, definition = _visible_or_404(application_id)
    user = _user()
    events = operations.history(db.session, user, application_id)
    return jsonify(items=[event_json(e, definition) for e in events])


# --- attachments ----------------------------------------------------------------------------------------------


def attachment_json(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "application_id": row.application_id,
        "category": row.category,
        "category_label": {"zh": category_label(row.category, "zh"), "en": category_label(row.category, "en")},
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "version": row.version,
        "current": row.current,
        "uploaded_by": row.uploaded_by.username if row.uploaded_by else None,
        "uploaded_at": iso_utc(row.uploaded_at),
        "download_url": url_for("api.download_attachment", attachment_id=row.id),
    }


@bp.post("/applications/<int:application_id>/attachments")
def upload_attachment(application_id: int) -> Response:
    """Upload one document (multipart `file`, `category`), streamed to the blob store; a re-upload adds a version."""
    boundary = request.mimetype_params.get("boundary", "")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise ApiProblem(415, "unsupported_media_type", "send multipart/form-data with the parts 'file' and 'category'")
    if too_large_by_header():
        raise attachments.UploadTooLarge(upload_limit())  # known from the header: refused before a byte is read
    row = upload_from_request(_user(), application_id, boundary, language())
    response = jsonify(attachment_json(row))
    response.status_code = 201
    response.headers["Location"] = url_for("api.download_attachment", attachment_id=row.id)
    return response


@bp.get("/applications/<int:application_id>/attachments")
def list_attachments(application_id: int) -> Response:
    """Current attachments (every version with `?all=1`), the categories required and those still missing."""
    raw = request.args.get("all", "0")
    if raw not in ("0", "1", "true", "false"):
        message = f"'all' is 1 (every version) or 0 (current versions only); got {raw!r}"
        raise InvalidInput(message, [Problem("all", "invalid", message)])
    app, definition = _visible_or_404(application_id)
    rows = attachments.attachments_of(db.session, _user(), application_id, all_versions=raw in ("1", "true"))
    required = attachments.required_categories(definition, app.kind, app.form)
    present = {row.category for row in rows if row.current}
    return jsonify(
        items=[attachment_json(row) for row in rows],
        required=required,
        missing=[category for category in required if category not in present],
    )


@bp.get("/attachments/<int:attachment_id>/download")
def download_attachment(attachment_id: int) -> Response:
    """The stored bytes, always as a download, only for someone who may see the application."""
    if attachment_id > MAX_ID:
        raise NotFound(f"attachment {attachment_id} not found")
    return attachment_response(attachments.for_download(db.session, _user(), attachment_id))


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi.document())


@bp.get("/problems/<code>")
def problem_type(code: str) -> Response:
    """What a problem's `type` URI names, in both languages."""
    described = describe(code)
    if described is None:
        raise ApiProblem(404, "not_found", f"no problem type '{code}'")
    return jsonify(described)


# --- documents the applicant prints, signs, scans and uploads ----------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _applicant_document(application_id: int) -> tuple[Application, Definition]:
    app, definition = _visible_or_404(application_id)
    if _user().role != "applicant":
        raise Forbidden("only the applicant prints the applicant's documents")
    return app, definition


def _docx(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=DOCX)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _sealer() -> sealed.Sealer:
    return sealed.sealer(current_app.config["FIELD_ENCRYPTION_KEYS"])


@bp.get("/applications/<int:application_id>/documents/authenticity-commitment")
def authenticity_commitment_document(application_id: int) -> Response:
    """申报材料真实性承诺书 filled in from the form, to print, sign, seal, scan and upload."""
    app, definition = _applicant_document(application_id)
    return _docx(authorisers.commitment(app, definition), authorisers.COMMITMENT_FILENAME)


@bp.post("/applications/<int:application_id>/documents/credit-authorisation")
def credit_authorisation_document(application_id: int) -> Response:
    """附件3 for the legal representative or the project lead: the authoriser is recorded (ID number sealed)."""
    body = read_body({"person_name": str, "id_card": str, "role": str}, required=("person_name", "id_card", "role"))
    # The operation checks visibility, role, state and the values in its own transaction; read after it.
    _row, document = authorisers.record(
        _user(),
        application_id,
        person_name=body["person_name"],
        id_card=body["id_card"],
        role=body["role"],
        sealer=_sealer(),
        request_id=g.request_id,
    )
    return _docx(document, authorisers.LETTER_FILENAME)


@bp.get("/applications/<int:application_id>/documents/credit-authorisation")
def credit_authorisation_again(application_id: int) -> Response:
    """附件3 again, from the recorded authoriser (404 until one is recorded)."""
    app, definition = _applicant_document(application_id)
    row = authorisers.current(db.session, app.id)
    if row is None:
        raise NotFound(
            f"no credit authoriser is recorded for application {application_id} yet: POST person_name, id_card "
            "and role to this URL first"
        )
    return _docx(authorisers.letter(app, definition, authorisers.opened(row, _sealer())), authorisers.LETTER_FILENAME)


@bp.get("/applications/<int:application_id>/documents/application-form")
def application_form_document(application_id: int) -> Response:
    """附件2 项目申请表 and 验收申请报告 as .docx, for whoever may see the application (404: the programme has none)."""
    app, definition = _visible_or_404(application_id)
    if not application_form_doc.has_application_form(definition):
        fund = programme_words(definition).fund_title
        raise NotFound(
            f"{fund}没有附件2项目申请表可打印"
            if language() == "zh"
            else f"{definition.title.get('en', fund)} has no 附件2 application form to print",
            programme=definition.label,
        )
    return _docx(application_form_doc.application_form(app, definition), application_form_doc.filename(definition))
