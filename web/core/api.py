"""The /api/v1 parent: bearer tokens checked once for every area's API, RFC 7807 problems, and what areas share.

Reads use `db.session`; every change goes through an operation (its own transaction). A view never reads
with `db.session` before it writes: on SQLite the read's snapshot would hide the operation's write from the view.
The token check is the one read before the view, and it ends its read transaction before the view begins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, request

from storage import sealed
from storage.multipart import content_disposition
from web.core import security
from web.core.extensions import csrf
from web.core.input_guard import MAX_ID as MAX_ID  # what every area's API bounds ids with
from web.core.problems import ApiProblem, install
from workflow.db import db
from workflow.errors import NotFound, Problem

PREFIX = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark an API view that answers without a token (the token exchange, the OpenAPI document, problem types)."""
    view.public_api = True  # type: ignore[attr-defined]
    return view


def api_blueprint(areas: list[Blueprint]) -> Blueprint:
    """The /api/v1 parent with the areas' API blueprints nested under it (one per app: blueprints register once)."""
    parent = Blueprint("api", __name__, url_prefix=PREFIX)
    parent.before_request(_authenticate)
    parent.before_request(_no_such_id)
    install(parent)
    # Bearer tokens are never sent by a browser on its own, so cross-site requests cannot forge them.
    csrf.exempt(parent)
    for area in areas:
        csrf.exempt(area)
        parent.register_blueprint(area)
    return parent


def _token_needed(detail: str, error: str | None = None) -> ApiProblem:
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return ApiProblem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


def _authenticate() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "public_api", False) or request.method == "OPTIONS":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _token_needed("send 'Authorization: Bearer <token>'; get a token from POST /api/v1/auth/token")
    idle = dt.timedelta(minutes=int(current_app.config["IDLE_TIMEOUT_MINUTES"]))
    # Token and user in one statement of the request's own read session: the view goes on from here.
    found = security.live_token(db.session, token.strip(), idle)
    if found is None:
        raise _token_needed(
            "the token is invalid, expired, idle too long or revoked; get a new one from POST /api/v1/auth/token",
            "invalid_token",
        )
    row, user = found
    # The read ends here, before the view: a view's writes go through operations in transactions of their own (an
    # attachment's download is audited so), and a read begun before them would, on SQLite, keep a snapshot without
    # them; a request may also read a long body first (an upload), with no transaction open meanwhile.
    db.session.commit()
    if security.touch_due(row):
        with db.transaction() as session:
            security.touch(session, row.id)
    g.api_user = user
    g.api_token_id = row.id


def _no_such_id() -> None:
    # Beyond the id column's range (a 32-bit integer on PostgreSQL) nothing exists; the database would refuse to
    # compare such an id, so answer here exactly as for any other missing application.
    application_id = (request.view_args or {}).get("application_id")
    if application_id is not None and application_id > MAX_ID:
        raise NotFound(f"application {application_id} not found")


def label_pair(labels: dict[str, str], fallback: str) -> dict[str, str]:
    """A label in both languages, each falling back to the other and then to the key."""
    return {"zh": labels.get("zh") or labels.get("en") or fallback, "en": labels.get("en") or fallback}


def with_etag(response: Response, version: int) -> Response:
    response.set_etag(str(version))
    return response


def positive_int(name: str, default: int, maximum: int | None = None) -> tuple[int, Problem | None]:
    raw = request.args.get(name)
    if raw is None:
        return default, None
    # Nine digits at most: int() of a 5,000-digit page raised ValueError (500) before any bound was checked.
    digits = raw.isascii() and raw.isdigit() and len(raw) <= 9
    if not digits or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        limit = f" up to {maximum}" if maximum else ""
        return default, Problem(name, "invalid", f"'{name}' is a whole number from 1{limit}; got {raw!r}")
    return int(raw), None


def docx_response(data: bytes, filename: str) -> Response:
    """A Word document, always as a download, never cached."""
    response = Response(data, mimetype=DOCX)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def xlsx_response(data: bytes, filename: str) -> Response:
    """A spreadsheet (a list taken away), always as a download, never cached."""
    response = Response(data, mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def sealer() -> sealed.Sealer:
    return sealed.sealer(current_app.config["FIELD_ENCRYPTION_KEYS"])
