"""The applications' API: programmes, applications, transitions, history, attachments and applicant documents."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from applications import attachments, authorisers
from applications.models import Attachment, category_label
from forms.fields import form_version
from forms.rules import computed, validate
from forms.schema import json_schema
from storage import multipart
from web.applications.blueprints import api as bp
from web.core.actor import me, visible_or_404
from web.core.api import MAX_ID, label_pair, positive_int, with_etag
from web.core.problems import ApiProblem, if_match_version, language, read_body
from web.core.transfers import (
    attachment_response,
    audited_attachment,
    too_large_by_header,
    upload_from_request,
    upload_limit,
)
from workflow import operations
from workflow.db import db, iso_utc
from workflow.definitions import Definition
from workflow.engine import allowed_triggers, fire
from workflow.errors import InvalidInput, NotFound, Problem
from workflow.models import Application, AuditEvent
from workflow.search import MAX_QUERY, search
from workflow.visibility import current_definitions, programme_definitions, visible_applications

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # keeps the offset within what every database accepts
MAX_IDEMPOTENCY_KEY = 200  # the column's width
MAX_PROJECT_NAME = 300  # the column's width, as create_application enforces


# --- serialisers --------------------------------------------------------------------------------------------


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
        "title": label_pair(definition.title, definition.code),
        "applicant_kinds": list(definition.applicant_kinds),
        "initial": definition.initial,
        "editable": list(definition.editable),
        "states": [
            {"name": s.name, "label": label_pair(s.label, s.name), "terminal": s.terminal}
            for s in definition.states.values()
        ],
        "triggers": [
            {
                "trigger": t.trigger,
                "label": label_pair(t.label, t.trigger),
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
        "reference": app.reference,
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


# --- loading ------------------------------------------------------------------------------------------------


def _detail_response(application_id: int) -> Response:
    app, definition = visible_or_404(application_id)
    body = application_summary(app, definition)
    body["form"] = app.form
    body["allowed_triggers"] = allowed_triggers(db.session, app, me(), definition)
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
    return with_etag(jsonify(body), app.version)


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
        me(), body["programme"], body["kind"], body["project_name"], body.get("form", {}), request_id=g.request_id
    )
    response = jsonify(id=app.id, state=app.state, version=app.version)
    response.status_code = 201
    response.headers["Location"] = url_for("api.applications.get_application", application_id=app.id)
    return with_etag(response, app.version)


@bp.get("/applications")
def list_applications() -> Response:
    """The applications the caller may see, newest first; filters `state`, `programme` (a code) and `q` (a search
    by unit name, USCC, project name, reference number (申报编号, or its start) or number)."""
    definitions = programme_definitions(db.session)
    page, page_problem = positive_int("page", 1, MAX_PAGE)
    per_page, per_page_problem = positive_int("per_page", 20, MAX_PER_PAGE)
    found = [p for p in (page_problem, per_page_problem) if p]
    query = visible_applications(db.session, me())
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
    text = request.args.get("q")
    if text is not None:
        if not text.strip() or len(text) > MAX_QUERY:
            found.append(
                Problem(
                    "q",
                    "invalid",
                    f"q is 1 to {MAX_QUERY} characters: a unit, a USCC, a project, a reference or a number",
                )
            )
        else:
            query = search(query, text)
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
        me(), application_id, body.get("form", {}), expected, project_name=name, request_id=g.request_id
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
        me(),
        payload,
        expected_version=body.get("expected_version"),
        idempotency_key=key.strip() if key else None,
        request_id=g.request_id,
    )
    response = jsonify(result.as_dict())
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return with_etag(response, result.version)


@bp.get("/applications/<int:application_id>/history")
def application_history(application_id: int) -> Response:
    """The application's audit events in order, as `operations.shown_to` lets the caller see them."""
    _app, definition = visible_or_404(application_id)
    user = me()
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
        "download_url": url_for("api.applications.download_attachment", attachment_id=row.id),
    }


@bp.post("/applications/<int:application_id>/attachments")
def upload_attachment(application_id: int) -> Response:
    """Upload one document (multipart `file`, `category`), streamed to the blob store; new bytes add a version."""
    boundary = request.mimetype_params.get("boundary", "")
    if request.mimetype != "multipart/form-data" or not boundary:
        raise ApiProblem(415, "unsupported_media_type", "send multipart/form-data with the parts 'file' and 'category'")
    if too_large_by_header():
        raise multipart.UploadTooLarge(upload_limit())  # known from the header: refused before a byte is read
    row = upload_from_request(me(), application_id, boundary, language())
    response = jsonify(attachment_json(row))
    response.status_code = 200 if row.unchanged else 201  # the same bytes again: the current version, as it was
    response.headers["Location"] = url_for("api.applications.download_attachment", attachment_id=row.id)
    return response


@bp.get("/applications/<int:application_id>/attachments")
def list_attachments(application_id: int) -> Response:
    """Current attachments (every version with `?all=1`), the categories required and those still missing."""
    raw = request.args.get("all", "0")
    if raw not in ("0", "1", "true", "false"):
        message = f"'all' is 1 (every version) or 0 (current versions only); got {raw!r}"
        raise InvalidInput(message, [Problem("all", "invalid", message)])
    app, definition = visible_or_404(application_id)
    rows = attachments.attachments_of(db.session, me(), application_id, all_versions=raw in ("1", "true"))
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
    return attachment_response(audited_attachment(attachment_id, "download"))
