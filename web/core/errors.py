"""Error pages in the reader's language, from the base template; the database being down is a 503, not a 500."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import g, render_template
from flask_babel import gettext
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from web.core.page_forms import N_
from web.core.pages import CSRF_TEXTS, bp
from workflow.db import db

log = logging.getLogger(__name__)

ERROR_TEXTS = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    403: (N_("Not allowed"), N_("You may not do this.")),
    404: (N_("Not found"), N_("There is no such page or application, or it is not yours to see.")),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
    429: (
        N_("Too many attempts"),
        N_("Too many attempts from your network in a short time. Wait a minute and try again."),
    ),
    500: (N_("Something went wrong"), N_("An error on our side; it has been logged. Please try again later.")),
    503: (
        N_("Service unavailable"),
        N_(
            "The service cannot reach its database just now. Nothing you sent was saved; "
            "please try again in a few minutes."
        ),
    ),
}


def error_page(code: int, detail: str | None = None) -> tuple[str, int]:
    title, message = ERROR_TEXTS.get(code, (N_("Error"), N_("The request could not be completed.")))
    return render_template("error.html", code=code, title=gettext(title), message=gettext(message), detail=detail), code


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Any:
    """Error pages in the reader's language (the API blueprint answers its own errors as problem+json)."""
    code = exc.code or 500
    if isinstance(exc, CSRFError):
        title, message = CSRF_TEXTS
        return render_template("error.html", code=code, title=gettext(title), message=gettext(message)), code
    # A reason from the engine (why this is forbidden) is worth showing; werkzeug's stock texts are not.
    detail = exc.description if code == 403 and exc.description != type(exc).description else None
    page, status = error_page(code, detail)
    return page, status, {"Retry-After": "60"} if code == 429 else {}


@bp.app_errorhandler(DBAPIError)
def database_unavailable(exc: DBAPIError) -> Any:
    """A database that cannot be reached answers 503 from the base template; any other database error is a 500."""
    log.error("database error in a page request (request %s): %s", g.get("request_id"), exc)
    with contextlib.suppress(DBAPIError):
        db.session.rollback()
    # The page must not ask the database who is logged in: it is the thing that is down.
    g._login_user = AnonymousUserMixin()
    return error_page(503 if exc.connection_invalidated or _unreachable(exc) else 500)


def _unreachable(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))
