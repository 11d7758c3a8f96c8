"""The OpenAPI 3.1 document of /api/v1, assembled from each area's paths and schemas (written by hand; tests check it).

The core declares the shared pieces (problems, labels, tokens) and the helpers every area writes its part with."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from web.core.api import public
from web.core.problems import PROBLEM_TYPES, ApiProblem, describe

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], required: list[str] | None = None, closed: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": required or list(properties)}
    if closed:
        schema["additionalProperties"] = False
    return schema


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
STRS: Schema = {"type": "array", "items": STR}
TIME: Schema = {"type": "string", "format": "date-time"}
STR_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
NULLABLE_DATE: Schema = {"type": ["string", "null"], "format": "date"}
FREE: Schema = {"type": "object", "additionalProperties": True}

# What each status means, for the response objects below.
_REASONS = {
    400: "Malformed request (the body is not a JSON object, or a header is malformed)",
    401: "No token, or an invalid, expired or revoked one",
    403: "The caller's role may never do this",
    404: "No such application, or the caller may not see it (the two are indistinguishable)",
    409: "Stale version, or not allowed in the current state (with `state` and `allowed_triggers`)",
    413: "The file is larger than the upload limit (code `too_large`, with `max_bytes`)",
    415: "The body is not JSON",
    422: "Invalid input or a guard refused; `errors` names each field",
    428: "If-Match is missing",
    429: "Too many login attempts from this client; `Retry-After` says when to try again",
}


def problem_responses(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/Problem{s}"} for s in statuses}


def json_body(schema: Schema, media: str = "application/json") -> dict[str, Any]:
    return {"required": True, "content": {media: {"schema": schema}}}


def ok(description: str, schema: Schema, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


ETAG = {"ETag": {"description": 'The application\'s version, e.g. "3"', "schema": STR}}
PATH_ID = {"name": "application_id", "in": "path", "required": True, "schema": INT}

SCHEMAS: dict[str, Schema] = {
    "Label": obj({"zh": STR, "en": STR}),
    "FieldError": obj({"field": STR, "code": STR, "message": STR}),
    "Problem": {
        **obj(
            {
                "type": {"type": "string", "format": "uri-reference"},
                "title": STR,
                "status": INT,
                "detail": STR,
                "code": STR,
                "instance": STR,
                "request_id": nullable(STR),
                "errors": {"type": "array", "items": ref("FieldError")},
                "state": STR,
                "allowed_triggers": STRS,
                "expected_version": INT,
                "current_version": INT,
            },
            ["type", "title", "status", "detail", "code"],
            closed=False,
        ),
        "description": "RFC 7807 problem details; `title` is Chinese unless Accept-Language or ?lang asks for en",
    },
    "ProblemType": obj({"type": STR, "code": STR, "status": INT, "title": ref("Label")}),
    "TokenRequest": obj(
        {
            "username": STR,
            "password": STR,
            "code": {**STR, "description": "the 6-digit code of the account's second factor (TOTP), where it is on"},
        },
        ["username", "password"],
    ),
    "Token": obj({"token": STR, "token_type": {"const": "Bearer"}, "expires_at": TIME}),
}

DOCX_RESPONSE = {
    "description": "A Word document to print, sign and upload",
    "headers": {"Content-Disposition": {"description": "attachment; filename*=UTF-8''…", "schema": STR}},
    "content": {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
            "schema": {
                "type": "string",
                "contentMediaType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            }
        }
    },
}
PATHS: dict[str, Any] = {
    "/auth/token": {
        "post": {
            "operationId": "issueToken",
            "summary": "Exchange a username and password for a bearer token",
            "security": [],
            "description": "Rate-limited per client (LOGIN_RATE_LIMIT); an account is locked for LOCKOUT_MINUTES "
            "after LOCKOUT_FAILURES wrong passwords or second-factor codes in a row, and the answer does not say "
            "which happened. An account with a second factor (TOTP) must send its current `code`.",
            "requestBody": json_body(ref("TokenRequest")),
            "responses": {"200": ok("A token, shown once", ref("Token")), **problem_responses(400, 401, 415, 422, 429)},
        },
        "delete": {
            "operationId": "revokeToken",
            "summary": "Revoke the token this request is sent with (an API client's logout)",
            "responses": {"204": {"description": "Revoked; it is refused from now on"}, **problem_responses(401)},
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapiDocument",
            "summary": "This document",
            "security": [],
            "responses": {"200": ok("OpenAPI 3.1", {"type": "object"})},
        }
    },
    "/problems/{code}": {
        "get": {
            "operationId": "problemType",
            "summary": "What a problem `type` names",
            "security": [],
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"enum": sorted(PROBLEM_TYPES)}}],
            "responses": {"200": ok("The problem type", ref("ProblemType")), **problem_responses(404)},
        }
    },
}


def document() -> dict[str, Any]:
    """The whole document: the core's part, then each registered area's, in the areas' configured order."""
    areas = current_app.extensions["shell"].areas
    problem_content = {"application/problem+json": {"schema": ref("Problem")}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "EMC subsidy workflow API",
            "version": "1",
            "description": "上海市能源管理中心专项资金申报与验收工作流 — applications, transitions and their "
            "audit trail. Errors are RFC 7807 application/problem+json.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {**PATHS, **{k: v for a in areas for k, v in a.openapi_paths.items()}},
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /auth/token",
                }
            },
            "schemas": {**SCHEMAS, **{k: v for a in areas for k, v in a.openapi_schemas.items()}},
            "responses": {
                f"Problem{status}": {"description": reason, "content": problem_content}
                for status, reason in _REASONS.items()
            },
        },
    }


bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
@public
def openapi_document() -> Response:
    return jsonify(document())


@bp.get("/problems/<code>")
@public
def problem_type(code: str) -> Response:
    """What a problem's `type` URI names, in both languages."""
    described = describe(code)
    if described is None:
        raise ApiProblem(404, "not_found", f"no problem type '{code}'")
    return jsonify(described)
