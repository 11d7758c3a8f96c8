"""Input that could never be stored or printed is refused before any view runs (issue 10 items 5–7).

Every query string, form post and JSON body, on pages and API alike: characters XML 1.0 forbids (control characters,
NUL, lone surrogates: they break the .docx documents and PostgreSQL's text), numbers that are not finite (1e400),
strings longer than MAX_FIELD_CHARS, JSON nested deeper than MAX_JSON_DEPTH or larger than MAX_JSON_BYTES. The answer
is 422 naming the field (problem+json under /api/v1, the error page elsewhere); nothing is written.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Flask, abort, current_app, render_template, request
from flask_babel import gettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from web.core.problems import PREFIX, problem_response, read_as_json
from workflow.errors import Problem

# XML 1.0 `Char`: tab, LF, CR and the rest from U+0020, without the surrogates and U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


MAX_ENCODED_CHARS = 10 * 1024 * 1024
MAX_ID = 2**31 - 1  # every id column is a 32-bit integer on PostgreSQL


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def text_problem(where: str, value: str, max_chars: int) -> Problem | None:
    """Why a string may not be kept, or None."""
    found = _ILLEGAL.search(value)
    if found:
        return Problem(
            where,
            "illegal_character",
            f"'{where}' contains the character {_describe(found.group())} (position {found.start() + 1}), "
            "which no document can hold; remove it",
        )
    if len(value) > max_chars:
        return Problem(where, "too_long", f"'{where}' has {len(value)} characters; at most {max_chars} are accepted")
    return None


def json_problems(value: Any, where: str, max_chars: int, max_depth: int, depth: int = 0) -> list[Problem]:
    """Every string (keys too), number and nesting level of a parsed JSON value, checked; the first few problems."""
    if depth > max_depth:
        return [Problem(where or "body", "too_deep", f"'{where or 'body'}' is nested more than {max_depth} levels")]
    found: list[Problem] = []
    if isinstance(value, str):
        # A signature drawn on the tablet arrives as base64 (`signature_png_base64`): bytes, bounded by the body.
        limit = MAX_ENCODED_CHARS if where.endswith("_base64") else max_chars
        problem = text_problem(where or "body", value, limit)
        return [problem] if problem else []
    if isinstance(value, float) and not math.isfinite(value):
        return [Problem(where or "body", "not_finite", f"'{where or 'body'}' is not a finite number")]
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            key_problem = text_problem(f"{where or 'body'} key", str(key), 200)
            if key_problem:
                found.append(key_problem)
            else:
                found.extend(json_problems(item, path, max_chars, max_depth, depth + 1))
            if len(found) >= 10:
                break
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(json_problems(item, f"{where}[{index}]", max_chars, max_depth, depth + 1))
            if len(found) >= 10:
                break
    return found


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def nesting_depth(raw: bytes) -> int:
    """How deep a JSON text nests, read without parsing it (a parser would recurse that deep first)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse(problems: list[Problem], status: int = 422) -> Response:
    detail = "; ".join(p.message for p in problems)
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        code = "invalid_input" if status == 422 else "payload_too_large"
        return problem_response(status, code, detail, errors=[p.as_dict() for p in problems])
    if request.is_json or request.path.endswith(".json"):
        return current_app.json.response({"code": "invalid_input", "detail": detail}), status  # type: ignore[return-value]
    page = render_template(
        "error.html", code=status, title=gettext("Invalid input"), message=gettext("The form was not saved."),
        detail=detail,
    )  # fmt: skip
    return Response(page, status, mimetype="text/html")


def form_problems(values: MultiDict[str, str], source: str = "form") -> list[Problem]:
    """Each key and value of a query string or a form post that could not be kept, named.

    The guard checks query strings and url-encoded posts; a view that parses a multipart body itself (a photo and
    its fields) calls this with `request.form` once it has.
    """
    max_chars = int(current_app.config["MAX_FIELD_CHARS"])
    problems: list[Problem] = []
    for key, value in values.items(multi=True):
        problem = text_problem(f"{source} key", key, 200) or text_problem(key, value, max_chars)
        if problem:
            problems.append(problem)
    return problems


def _check_request() -> Response | None:
    # An id in the path beyond any id column's range names nothing, and PostgreSQL refuses to compare it (500).
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_ID:
            if request.path.startswith(PREFIX + "/"):
                what = name.removesuffix("_id").replace("_", " ")
                return problem_response(404, "not_found", f"{what} {value} not found")
            abort(404)
    config = current_app.config
    max_chars, max_depth = int(config["MAX_FIELD_CHARS"]), int(config["MAX_JSON_DEPTH"])
    # Only url-encoded posts: reading a multipart body here would swallow the streamed upload of an attachment.
    posted = request.form if request.mimetype == "application/x-www-form-urlencoded" else MultiDict()
    problems = form_problems(request.args, "query") + form_problems(posted)
    if problems:
        return _refuse(problems)
    # Every body json_body would parse, a body sent without a Content-Type too (`request.is_json` says no to those).
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and (request.is_json or read_as_json(request.mimetype)):
        limit = int(config["MAX_JSON_BYTES"])
        if (request.content_length or 0) > limit:
            return _refuse([Problem("body", "too_large", f"a JSON body has at most {limit} bytes")], 413)
        raw = request.get_data(cache=True)
        if len(raw) > limit:
            return _refuse([Problem("body", "too_large", f"a JSON body has at most {limit} bytes")], 413)
        if nesting_depth(raw) > max_depth + 1:  # the body object itself is one level
            return _refuse([Problem("body", "too_deep", f"a JSON body nests at most {max_depth} levels")])
        try:
            body = json.loads(raw, parse_constant=_not_json) if raw.strip() else None
        except (ValueError, RecursionError):
            return None  # malformed: the view answers it (400) as before
        found = json_problems(body, "", max_chars, max_depth)
        if found:
            return _refuse(found)
    return None


def init_app(app: Flask) -> None:
    app.before_request(_check_request)
