"""The checklist page's JSON answers to the tablet: messages in the reader's language, errors, CSRF, bodies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from review import photos
from web.core.page_forms import N_
from web.core.pages import lang
from web.core.problems import PROBLEM_TYPES
from workflow.errors import InvalidInput, Problem, WorkflowError

# Photos waiting on the device show as blob: thumbnails; everything else is the pages' policy.
PROBLEM_MESSAGES = {
    "no_result": N_("Criterion %(criterion)s has no result yet."),
    ("confirm", "required"): N_("Confirm that these results are your own findings."),
    ("signed_name", "required"): N_("Type your name as you sign."),
    ("signature", "required"): N_("Draw your signature in the box."),
    ("signature", "too_large"): N_("The signature image is too large; clear it and sign again."),
    ("signature", "type_not_allowed"): N_("The signature could not be read; clear it and sign again."),
    ("photo", "type_not_allowed"): N_("Only JPEG or PNG photos can be kept."),
    ("photo", "too_large"): N_("The photo is larger than the limit of %(mb)s MB."),
    ("photo", "required"): N_("Choose a photo."),
    "invalid_score": N_("The score must be a number from 0 with at most 2 decimals."),
    "above_maximum": N_("The score is above this criterion's maximum."),
    "invalid_note": N_("The note is too long."),
}
# What the page's script says, in the reader's language (the page carries them; no inline script).
SCRIPT_MESSAGES = {
    "online": N_("Online"),
    "offline": N_("Offline: changes are kept on this device"),
    "syncing": N_("Syncing…"),
    "never": N_("not yet"),
    "saving": N_("Saving on this device…"),
    "saved": N_("Kept on this device"),
    "offline-ready": N_("This page also works offline"),
    "no-storage": N_("This browser cannot keep answers on the device; stay online until they are synced."),
    "conflict-title": N_("This answer was changed elsewhere while you were offline. Which one counts?"),
    "yours": N_("Your answer"),
    "theirs": N_("The saved answer"),
    "keep-mine": N_("Keep mine"),
    "take-theirs": N_("Take the saved answer"),
    "no-answer": N_("(no result)"),
    "score": N_("score"),
    "pending": N_("Not yet synced"),
    "invalid": N_("Not sent: correct it"),
    "in-conflict": N_("Conflict: choose an answer"),
    "photo-waiting": N_("waiting to upload"),
    "photo-kept": N_("kept"),
    "photo-failed": N_("not kept"),
    "photo-located": N_("location recorded"),
    "photo-no-location": N_("no location"),
    "photo-remove": N_("Remove"),
    "score-invalid": N_("Enter a number from 0 with at most 2 decimals, no more than the maximum."),
    "login": N_("Your session has ended. Log in again; your answers stay on this device."),
    "blocked": N_("The server no longer accepts changes to this sheet."),
    "failed": N_("The server could not save the changes; they stay on this device and will be sent again."),
    "submit-offline": N_("Submitting needs a connection. Your answers are kept on this device."),
    "submit-pending": N_("Some changes are not synced yet or need your choice; settle them first."),
    "submit-missing": N_("Every criterion needs a result before you submit: %(criteria)s"),
    "submit-no-signature": N_("Draw your signature in the box."),
    "submitted": N_("Signed and submitted. Thank you."),
}


# --- helpers --------------------------------------------------------------------------------------------------


def script_message(key: str, **values: Any) -> str:
    """One of the script's messages in the reader's language."""
    template = SCRIPT_MESSAGES[key]
    return gettext(template, **values)


def problem_message(problem: Problem) -> str:
    """A scoring problem in the reader's language."""
    field = problem.field.split("[", 1)[0].split(".", 1)[0]
    template = PROBLEM_MESSAGES.get((field, problem.code)) or PROBLEM_MESSAGES.get(problem.code)
    if template is None:
        return problem.message
    criterion = problem.field.removeprefix("results.")
    return gettext(template, criterion=criterion, mb=photos.PHOTO_MAX_BYTES // 2**20)


def _criterion_of(field: str, sent: list[Any]) -> str | None:
    """Which criterion a problem names: `results.<id>` (submit) or `results[i].…` (the i-th item sent)."""
    if field.startswith("results."):
        return field.removeprefix("results.")
    if field.startswith("results[") and "]" in field:
        index = field[len("results[") : field.index("]")]
        if index.isdigit() and int(index) < len(sent) and isinstance(sent[int(index)], dict):
            return str(sent[int(index)].get("criterion", "")) or None
    return None


def json_error(status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
    titles = PROBLEM_TYPES.get(code)
    title = (titles[1] if lang() == "zh" else titles[2]) if titles else detail
    body = {"status": status, "code": code, "title": title, "detail": detail, "errors": errors or [], **extra}
    return jsonify(body), status


def workflow_error(exc: WorkflowError, sent: list[Any] | None = None) -> Any:
    problems = exc.problems if isinstance(exc, InvalidInput) else []
    errors = [
        {**p.as_dict(), "message": problem_message(p), "criterion": _criterion_of(p.field, sent or [])}
        for p in problems
    ]
    extra = {k: v for k, v in exc.extra.items() if k != "errors"}
    return json_error(exc.status, exc.code, exc.detail, errors, **extra)


def json_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Session auth for the script: 401 in JSON instead of the login redirect."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return json_error(401, "unauthorized", script_message("login"), login=url_for("pages.login"))
        return view(*args, **kwargs)

    return wrapped


def csrf_refused() -> Any | None:
    """The X-CSRFToken header checked before the body is read; a JSON 400 when it is missing or wrong."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError as exc:
        detail = str(exc.args[0]) if exc.args else "The CSRF token is missing."
        message = gettext("The page has expired; reload it and try again.")
        return json_error(400, "csrf", detail, [{"field": "csrf_token", "code": "csrf", "message": message}])
    return None


def json_body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def no_cache(response: Response) -> Response:
    # Kept offline by the service worker's own cache (which ignores this), never by the browser's HTTP cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response
