"""The applications' part of the OpenAPI document: programmes, applications, transitions, history, attachments."""

from __future__ import annotations

from typing import Any

from applications.models import AUTHORISER_ROLES
from web.core.openapi import (
    ETAG,
    FREE,
    INT,
    NULLABLE_DATE,
    PATH_ID,
    STR,
    STR_MAP,
    STRS,
    TIME,
    Schema,
    json_body,
    nullable,
    obj,
    ok,
    problem_responses,
    ref,
)
from workflow import references

SUMMARY: dict[str, Schema] = {
    "id": INT,
    "reference": nullable(
        {
            "type": "string",
            "pattern": references.PATTERN,
            "description": "申报编号: programme, year, district, sequence; set at the first submission, then kept",
        }
    ),
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
                    *("scored", "photo_added", "sheet_submitted", "visit_steps"),
                    *("evidence_asked", "binder_asked", "late_admitted", "archive_packed"),
                    *("attachment_read", "file_read"),
                ],
                "description": "attachment_read: an attachment downloaded or viewed (payload attachment_id, how, "
                "sha256, version); file_read: any other file (payload file: checklist_photo, binder, "
                "credit_authorisation, application_form or authenticity_commitment; id, sha256, how)",
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
}


PATHS: dict[str, Any] = {
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
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                    "description": "search: part of the unit's or the project's name, the unit's USCC, "
                    "the reference number (申报编号, whole or its start), or the number",
                },
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
}
