"""RFC 7807 problem details for /api/v1, and the request parsing that answers with them.

Every error under /api/v1 is `application/problem+json`: `type`, `title` (Chinese first, English on
`Accept-Language: en` or `?lang=en`), `status`, `detail`, our `code`, and the extras a client needs to
recover (`errors`, `state`, `allowed_triggers`, `current_version`, `expected_version`). No stack trace ever
leaves the server: an unexpected error answers 500 with the request id to quote.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, default_exceptions
from werkzeug.routing import RoutingException

from workflow.errors import InvalidInput, Problem, WorkflowError

log = logging.getLogger(__name__)

PREFIX = "/api/v1"

# code → (status, zh title, en title). The engine's errors first, then the HTTP layer's own.
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "not_found": (404, "未找到", "Not found"),
    "forbidden": (403, "无权执行此操作", "Forbidden"),
    "not_allowed_in_state": (409, "当前状态下不允许此操作", "Not allowed in this state"),
    "stale_version": (409, "申报已被他人修改，请刷新后重试", "Stale version"),
    "guard_failed": (422, "条件不满足", "Conditions not met"),
    "idempotency_key_reused": (422, "幂等键已用于另一请求", "Idempotency key reused"),
    "invalid_input": (422, "输入有误", "Invalid input"),
    "workflow_error": (400, "工作流错误", "Workflow error"),
    "panel_conflict": (409, "专家组状态冲突", "Panel conflict"),
    "sheet_submitted": (409, "核查表已签名提交，不能再修改", "Sheet already submitted"),
    "before_visit_day": (409, "现场核查日尚未到来", "Before the site visit"),
    "unauthorized": (401, "未认证或令牌无效", "Authentication required"),
    "invalid_credentials": (401, "用户名或密码错误", "Invalid credentials"),
    "malformed_json": (400, "请求体不是有效的 JSON 对象", "Malformed JSON"),
    "bad_request": (400, "请求有误", "Bad request"),
    "method_not_allowed": (405, "不支持该请求方法", "Method not allowed"),
    "precondition_required": (428, "缺少 If-Match 版本号", "Precondition required"),
    "invalid_precondition": (400, "If-Match 版本号格式有误", "Invalid If-Match header"),
    "unsupported_media_type": (415, "不支持的内容类型", "Unsupported media type"),
    "payload_too_large": (413, "请求体过大", "Payload too large"),
    "too_large": (413, "文件超过上传大小上限", "File too large"),
    "internal_error": (500, "服务器内部错误", "Internal server error"),
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
}


class ApiProblem(Exception):
    """An HTTP-level refusal (authentication, malformed request) answered as a problem document."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def language() -> str:
    asked = request.args.get("lang")
    if asked in ("zh", "en"):
        return asked
    return request.accept_languages.best_match(("zh", "en"), default="zh") or "zh"


def type_uri(code: str) -> str:
    return f"{PREFIX}/problems/{code}"


def title_of(code: str, fallback: str, lang: str) -> str:
    known = PROBLEM_TYPES.get(code)
    if known is None:
        return fallback
    return known[1] if lang == "zh" else known[2]


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": type_uri(code),
        "title": title_of(code, title or code, language()),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
        "request_id": g.get("request_id"),
    }
    body.update({k: v for k, v in extra.items() if k not in body})
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.extend(headers or {})
    return response


def describe(code: str) -> dict[str, Any] | None:
    """What a problem `type` URI documents: its status and its title in both languages."""
    known = PROBLEM_TYPES.get(code)
    if known is None:
        return None
    status, zh, en = known
    return {"type": type_uri(code), "code": code, "status": status, "title": {"zh": zh, "en": en}}


def _workflow_error(exc: WorkflowError) -> Response:
    return problem_response(exc.status, exc.code, exc.detail, title=exc.title, **exc.extra)


def _api_problem(exc: ApiProblem) -> Response:
    return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)


def _http_error(exc: HTTPException) -> Response | HTTPException:
    if isinstance(exc, RoutingException) or exc.code is None:
        return exc  # redirects (a missing trailing slash) are not errors
    code = _HTTP_CODES.get(exc.code, f"http_{exc.code}")
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    detail = exc.description or exc.name
    if exc.code == 429:
        # Flask-Limiter's description is the limit itself ("10 per 1 minute").
        headers["Retry-After"] = "60"
        detail = f"too many attempts from this client (limit: {detail}); wait a minute and try again"
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        detail = f"{request.method} is not allowed here; allowed: {', '.join(sorted(exc.valid_methods))}"
    return problem_response(exc.code, code, detail, title=exc.name, headers=headers)


def _internal_error(exc: Exception) -> Response:
    log.exception("unhandled error in %s %s (request %s)", request.method, request.path, g.get("request_id"))
    return problem_response(
        500, "internal_error", f"an internal error occurred; quote request id {g.get('request_id')} when reporting it"
    )


def _routing_error() -> Response | None:
    """Unknown routes and wrong methods under the API prefix answer problem+json, not the HTML error page."""
    exc = request.routing_exception
    if exc is None or not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return None
    if isinstance(exc, HTTPException) and not isinstance(exc, RoutingException):
        if exc.code == 404:
            return problem_response(404, "not_found", f"no API route {request.path}; see {PREFIX}/openapi.json")
        return _http_error(exc)  # type: ignore[return-value]
    return None


def install(bp: Blueprint) -> None:
    """Register the problem+json answers on the API blueprint (and for unmatched URLs under its prefix)."""
    bp.register_error_handler(WorkflowError, _workflow_error)
    bp.register_error_handler(ApiProblem, _api_problem)
    # By status code as well as by class: an application-wide handler for a code would otherwise win.
    for status in default_exceptions:
        bp.register_error_handler(status, _http_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _internal_error)
    # Routing failures have no blueprint yet, so error handlers never see them; answer before dispatch.
    bp.before_app_request(_routing_error)


# --- reading requests -------------------------------------------------------------------------------------

_JSON_NAMES = {str: "a string", int: "an integer", dict: "an object", list: "an array"}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_as_json(mimetype: str) -> bool:
    """Whether json_body parses a body of this media type: none at all is read as JSON too (the input guard checks
    exactly these bodies, so none reaches a view unchecked)."""
    return not mimetype or mimetype == "application/json" or mimetype.endswith("+json")


def json_body() -> dict[str, Any]:
    """The request body as a JSON object; an empty body is an empty object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    mimetype = request.mimetype
    if not read_as_json(mimetype):
        raise ApiProblem(415, "unsupported_media_type", f"send JSON (Content-Type: application/json), not {mimetype}")
    try:
        body = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise ApiProblem(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "malformed_json", f"the body must be a JSON object, not {type(body).__name__}")
    return body


def read_body(fields: dict[str, type], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check the body's fields by JSON type; 422 naming every missing, mistyped or unknown field."""
    body = json_body()
    found = [
        Problem(name, "unknown_field", f"'{name}' is not a field here; expected: {', '.join(fields)}")
        for name in body
        if name not in fields
    ]
    for name, kind in fields.items():
        value = body.get(name)
        if value is None or (name in required and value == ""):
            if name in required:
                found.append(Problem(name, "required", f"'{name}' is required"))
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            found.append(Problem(name, "wrong_type", f"'{name}' must be {_JSON_NAMES[kind]}"))
    if found:
        raise InvalidInput("; ".join(p.message for p in found), found)
    return {name: value for name, value in body.items() if value is not None}


def if_match_version() -> int:
    """The version named by If-Match (`"3"` or `3`); required so that no edit silently overwrites another."""
    raw = request.headers.get("If-Match")
    if raw is None:
        raise ApiProblem(
            428, "precondition_required", 'send If-Match with the version you edited (the ETag of GET, e.g. "3")'
        )
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not (value.isascii() and value.isdigit()):
        raise ApiProblem(400, "invalid_precondition", f'If-Match must name one version, e.g. "3"; got {raw!r}')
    return int(value)
