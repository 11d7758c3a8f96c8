"""The OpenAPI 3.1 description of /api/v1, written by hand; tests check it against the routes and responses."""

from __future__ import annotations

from typing import Any

from storage.models import AUTHORISER_ROLES, CATEGORIES
from storage.sniff import ALLOWED
from web.problems import PROBLEM_TYPES

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

SUMMARY: dict[str, Schema] = {
    "id": INT,
    "programme": {"type": "string", "description": "code@version the application is pinned to"},
    "kind": STR,
    "project_name": STR,
    "district": nullable(STR),
    "organisation": ref("Organisation"),
    "state": STR,
    "state_label": ref("Label"),
    "version": INT,
    "created_at": TIME,
    "updated_at": TIME,
    "submitted_at": nullable(TIME),
}

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
    "TokenRequest": obj({"username": STR, "password": STR}),
    "Token": obj({"token": STR, "token_type": {"const": "Bearer"}, "expires_at": TIME}),
    "State": obj({"name": STR, "label": ref("Label"), "terminal": {"type": "boolean"}}),
    "Trigger": {
        **obj(
            {
                "trigger": STR,
                "label": ref("Label"),
                "sources": STRS,
                "dest": STR,
                "roles": STRS,
                "requires": STRS,
            }
        ),
        "description": "One transition; a trigger appears once per set of source states it leaves from",
    },
    "Programme": obj(
        {
            "code": STR,
            "version": INT,
            "label": STR,
            "title": ref("Label"),
            "applicant_kinds": STRS,
            "initial": STR,
            "editable": STRS,
            "states": {"type": "array", "items": ref("State")},
            "triggers": {"type": "array", "items": ref("Trigger")},
            "authority": {**STR_MAP, "description": "who runs the fund: name, short; reviewer, reviewer_short"},
            "terms": {**STR_MAP, "description": "the programme's words, e.g. award: 支持 or 扶持"},
            "fund": {**STR_MAP, "description": "the fund's name and sub-programme"},
            "window": {
                "oneOf": [
                    obj({"opens": NULLABLE_DATE, "closes": NULLABLE_DATE}),
                    {"type": "null"},
                ],
                "description": "submission window, Shanghai dates, both days included; null: always open",
            },
            "local_settings": {
                "type": "array",
                "items": obj({"key": STR, "value": STR, "label": ref("Label")}),
                "description": "values the seeds do not state, chosen locally",
            },
        }
    ),
    "ProgrammeList": obj({"items": {"type": "array", "items": ref("Programme")}}),
    "ApplicationCreate": obj(
        {"programme": STR, "kind": STR, "project_name": {"type": "string", "maxLength": 300}, "form": FREE},
        ["programme", "kind", "project_name"],
    ),
    "ApplicationCreated": obj({"id": INT, "state": STR, "version": INT}),
    "Organisation": obj({"id": INT, "name": STR, "uscc": STR}),
    "ApplicationSummary": obj(SUMMARY),
    "ApplicationList": obj(
        {
            "items": {"type": "array", "items": ref("ApplicationSummary")},
            "total": INT,
            "page": INT,
            "per_page": INT,
        }
    ),
    "Application": obj(
        {
            **SUMMARY,
            "form": FREE,
            "allowed_triggers": {**STRS, "description": "what the caller may fire now"},
            "form_problems": {
                "type": "array",
                "items": ref("FieldError"),
                "description": "what the form's rules say of the values saved so far (submit also needs the rest)",
            },
            "computed": {
                "type": "object",
                "additionalProperties": {"type": ["string", "null"]},
                "description": "access ratios and park shares computed from the counts (4 decimals, rounded down)",
            },
            "credit_authoriser": {
                **nullable(ref("CreditAuthoriser")),
                "description": "who authorises the credit query (附件3), the latest recorded; null until one is",
            },
        }
    ),
    "CreditAuthoriser": obj(
        {
            "person_name": STR,
            "role": {"enum": list(AUTHORISER_ROLES)},
            "id_card_masked": {
                "type": "string",
                "description": "the ID number with all but the first 3 and last 4 characters hidden",
            },
        }
    ),
    "DraftPatch": {
        **obj(
            {
                "form": {**FREE, "description": "JSON merge patch (RFC 7386) of the form: null removes a field"},
                "project_name": {"type": "string", "minLength": 1, "maxLength": 300},
            },
            [],
        ),
        "minProperties": 1,
    },
    "TransitionRequest": obj(
        {
            "trigger": STR,
            "comment": {"type": "string", "description": "stored as payload.comment"},
            "payload": FREE,
            "expected_version": {"type": "integer", "description": "refused with 409 if the application moved on"},
        },
        ["trigger"],
    ),
    "TransitionResult": obj(
        {
            "application_id": INT,
            "trigger": STR,
            "from_state": STR,
            "state": STR,
            "version": INT,
            "event_seq": INT,
            "replayed": {"type": "boolean", "description": "true when answered from the Idempotency-Key record"},
        }
    ),
    "HistoryEvent": obj(
        {
            "seq": INT,
            "occurred_at": TIME,
            "actor": STR,
            "role": STR,
            "outcome": {
                "enum": [
                    *("created", "edited", "transition", "denied", "assigned", "attached", "authoriser_set"),
                    *("panel_drawn", "panel_short", "declared", "visit_scheduled"),
                    *("scored", "photo_added", "sheet_submitted"),
                ]
            },
            "trigger": nullable(STR),
            "trigger_label": nullable(ref("Label")),
            "from_state": nullable(STR),
            "from_state_label": nullable(ref("Label")),
            "to_state": nullable(STR),
            "to_state_label": nullable(ref("Label")),
            "payload": FREE,
            "visibility": {
                "enum": ["applicant", "internal", "hidden", None],
                "description": "a transition's: its comment and payload reach the applicant, or the applicant sees "
                "only the change of state (internal; payload empty but for an approved amount), or not the event",
            },
        }
    ),
    "History": obj({"items": {"type": "array", "items": ref("HistoryEvent")}}),
    "Attachment": {
        **obj(
            {
                "id": INT,
                "application_id": INT,
                "category": {"enum": list(CATEGORIES)},
                "category_label": ref("Label"),
                "filename": {
                    "type": "string",
                    "description": "the uploaded name, cleaned; the extension fits the bytes",
                },
                "content_type": {"type": "string", "description": "decided from the bytes, not from the name"},
                "size": INT,
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "version": {"type": "integer", "minimum": 1, "description": "1, 2, … per application and category"},
                "current": {"type": "boolean", "description": "false once a newer version of the category arrived"},
                "uploaded_by": nullable(STR),
                "uploaded_at": TIME,
                "download_url": STR,
            }
        ),
        "description": "One version of one uploaded document",
    },
    "AttachmentList": obj(
        {
            "items": {"type": "array", "items": ref("Attachment")},
            "required": {**STRS, "description": "categories a submission must carry (given the form as it stands)"},
            "missing": {**STRS, "description": "required categories with no current upload"},
        }
    ),
    "AttachmentUpload": obj(
        {
            "file": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "The document; its type is decided by its bytes: "
                + ", ".join(sorted({k.name.upper() for k in ALLOWED})),
            },
            "category": {"enum": list(CATEGORIES)},
        }
    ),
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
            "after LOCKOUT_FAILURES wrong passwords in a row, and the answer does not say which happened.",
            "requestBody": json_body(ref("TokenRequest")),
            "responses": {"200": ok("A token, shown once", ref("Token")), **problem_responses(400, 401, 422, 429)},
        },
        "delete": {
            "operationId": "revokeToken",
            "summary": "Revoke the token this request is sent with (an API client's logout)",
            "responses": {"204": {"description": "Revoked; it is refused from now on"}, **problem_responses(401)},
        },
    },
    "/programmes": {
        "get": {
            "operationId": "listProgrammes",
            "summary": "The current version of each programme, with its states and triggers",
            "responses": {"200": ok("Programmes", ref("ProgrammeList")), **problem_responses(401)},
        }
    },
    "/programmes/{code}/form-schema": {
        "get": {
            "operationId": "getFormSchema",
            "summary": "The programme's current application form for one applicant kind, as JSON Schema 2020-12",
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": STR},
                {"name": "kind", "in": "query", "required": True, "schema": STR, "description": "an applicant kind"},
            ],
            "responses": {
                "200": ok("A JSON Schema document", {"type": "object", "additionalProperties": True}),
                **problem_responses(401, 404, 422),
            },
        }
    },
    "/applications": {
        "get": {
            "operationId": "listApplications",
            "summary": "Applications the caller may see, newest first",
            "parameters": [
                {"name": "state", "in": "query", "schema": STR},
                {"name": "programme", "in": "query", "schema": STR, "description": "a programme code"},
                {
                    "name": "page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
            ],
            "responses": {"200": ok("One page", ref("ApplicationList")), **problem_responses(401, 422)},
        },
        "post": {
            "operationId": "createApplication",
            "summary": "Open a draft under the programme's current version (applicants only)",
            "requestBody": json_body(ref("ApplicationCreate")),
            "responses": {
                "201": ok(
                    "Created",
                    ref("ApplicationCreated"),
                    {"Location": {"description": "The new application's URL", "schema": STR}, **ETAG},
                ),
                **problem_responses(400, 401, 403, 415, 422),
            },
        },
    },
    "/applications/{application_id}": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "getApplication",
            "summary": "One application, with the triggers the caller may fire now",
            "responses": {"200": ok("The application", ref("Application"), ETAG), **problem_responses(401, 404)},
        },
        "patch": {
            "operationId": "updateDraft",
            "summary": "Edit a draft (or a returned application) as a JSON merge patch",
            "parameters": [
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": True,
                    "schema": STR,
                    "description": 'The version edited, as GET\'s ETag gave it (e.g. "3")',
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ref("DraftPatch")},
                    "application/merge-patch+json": {"schema": ref("DraftPatch")},
                },
            },
            "responses": {
                "200": ok("The application after the edit", ref("Application"), ETAG),
                **problem_responses(400, 401, 403, 404, 409, 415, 422, 428),
            },
        },
    },
    "/applications/{application_id}/transitions": {
        "parameters": [PATH_ID],
        "post": {
            "operationId": "fireTransition",
            "summary": "Fire a trigger on the application",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                    "description": "A retry with the same key and body is answered from the first outcome",
                }
            ],
            "requestBody": json_body(ref("TransitionRequest")),
            "responses": {
                "200": ok(
                    "Fired (or replayed)",
                    ref("TransitionResult"),
                    {
                        **ETAG,
                        "Idempotent-Replayed": {
                            "description": "`true` when the answer is a replay",
                            "schema": {"const": "true"},
                        },
                    },
                ),
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    "/applications/{application_id}/history": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "applicationHistory",
            "summary": "The application's audit events in order",
            "description": "Refused attempts by other people are shown to the authorities and auditors only; "
            "applicants and experts see their own refused attempts and every change.",
            "responses": {"200": ok("Events", ref("History")), **problem_responses(401, 404)},
        },
    },
    "/applications/{application_id}/attachments": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "listAttachments",
            "summary": "The application's attachments, and the required categories still missing",
            "parameters": [
                {
                    "name": "all",
                    "in": "query",
                    "schema": {"enum": ["0", "1", "true", "false"], "default": "0"},
                    "description": "1: every version, not only the current one of each category",
                }
            ],
            "responses": {"200": ok("Attachments", ref("AttachmentList")), **problem_responses(401, 404, 422)},
        },
        "post": {
            "operationId": "uploadAttachment",
            "summary": "Upload a document (the applicant, while the form is editable or a supplement is requested)",
            "description": "Streamed to storage; refused with 413 past the size limit (MAX_UPLOAD_BYTES, 200 MB by "
            "default) and with 422 `type_not_allowed` unless the bytes are PDF, JPEG, PNG, OFD, DOCX, XLSX, CSV "
            "(UTF-8 or GB18030) or ZIP. A second upload in a category is a new version; the old one is kept.",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": ref("AttachmentUpload"),
                        "encoding": {"file": {"contentType": "application/octet-stream"}},
                    }
                },
            },
            "responses": {
                "201": ok(
                    "Stored",
                    ref("Attachment"),
                    {"Location": {"description": "The download URL", "schema": STR}},
                ),
                **problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
            },
        },
    },
    "/attachments/{attachment_id}/download": {
        "parameters": [{"name": "attachment_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "downloadAttachment",
            "summary": "The stored bytes, as a download (only for those who may see the application)",
            "responses": {
                "200": {
                    "description": "The document, with the content type decided at upload",
                    "headers": {
                        "Content-Disposition": {
                            "description": "Always attachment; filename*=UTF-8''… (RFC 5987)",
                            "schema": STR,
                        },
                        "X-Content-Type-Options": {"schema": {"const": "nosniff"}},
                        "ETag": {"description": "The SHA-256 of the bytes", "schema": STR},
                    },
                    "content": {
                        kind.content_type: {"schema": {"type": "string", "contentMediaType": kind.content_type}}
                        for kind in ALLOWED
                    },
                },
                **problem_responses(401, 404),
            },
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
    from web import (  # one module each: the applicant's documents, the review desks
        openapi_checklist,
        openapi_desk,
        openapi_documents,
        openapi_panel,
        openapi_record,
    )
    from web.openapi_revisions import REVISION_PATHS, REVISION_SCHEMAS  # built from the helpers above

    review = (openapi_documents, openapi_desk, openapi_panel, openapi_checklist, openapi_record)

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
        "paths": {**PATHS, **REVISION_PATHS, **{k: v for m in review for k, v in m.PATHS.items()}},
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /auth/token",
                }
            },
            "schemas": {**SCHEMAS, **REVISION_SCHEMAS, **{k: v for m in review for k, v in m.SCHEMAS.items()}},
            "responses": {
                f"Problem{status}": {"description": reason, "content": problem_content}
                for status, reason in _REASONS.items()
            },
        },
    }
