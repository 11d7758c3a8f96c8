"""The OpenAPI description of the revision routes (web/api_revisions.py); web.core.openapi.document() merges it in."""

from __future__ import annotations

from typing import Any

from web.core.openapi import FREE, INT, PATH_ID, STR, TIME, Schema, json_body, nullable, obj, ok, problem_responses, ref

_SNAPSHOT_FILE = obj(
    {
        "attachment_id": INT,
        "category": STR,
        "filename": STR,
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "version": INT,
    }
)
_ANSWERED_ITEM = obj({"id": STR, "text": STR, "answer": STR})
_REVISION_SUMMARY: dict[str, Schema] = {
    "number": {"type": "integer", "minimum": 1, "description": "1, 2, … per application"},
    "trigger": {"type": "string", "description": "what made it: submit, resubmit or supply"},
    "created_at": TIME,
    "created_by": nullable(STR),
    "event_seq": nullable({**INT, "description": "the audit event of the submission"}),
}
SCHEMAS: dict[str, Schema] = {
    "AttachmentSnapshot": {**_SNAPSHOT_FILE, "description": "The current version of a category when submitted"},
    "RevisionSummary": obj(_REVISION_SUMMARY),
    "RevisionList": obj(
        {
            "items": {"type": "array", "items": ref("RevisionSummary")},
            "latest": {**INT, "description": "the latest revision's number (0: never submitted)"},
            "last_read": {**INT, "description": "the revision the caller last marked read (0: none)"},
        }
    ),
    "Revision": obj(
        {
            **_REVISION_SUMMARY,
            "form": FREE,
            "attachments": {"type": "array", "items": ref("AttachmentSnapshot")},
            "supplement": nullable(
                obj(
                    {
                        "request_id": INT,
                        "due_date": {"type": "string", "format": "date"},
                        "items": {"type": "array", "items": _ANSWERED_ITEM},
                    }
                )
            ),
            # A resubmission after a return: each point to correct beside the applicant's answer.
            "return_answers": nullable(
                obj({"return_id": INT, "trigger": STR, "items": {"type": "array", "items": _ANSWERED_ITEM}})
            ),
        }
    ),
    "FieldChange": obj({"field": STR, "label": ref("Label"), "before": {}, "after": {}}),
    "AttachmentChange": obj(
        {
            "category": STR,
            "category_label": ref("Label"),
            "change": {"enum": ["added", "replaced", "removed"]},
            "before": nullable(ref("AttachmentSnapshot")),
            "after": nullable(ref("AttachmentSnapshot")),
        }
    ),
    "Changes": obj(
        {
            "since": {**INT, "description": "the revision compared against (0: nothing, all is new)"},
            "latest": INT,
            "form": {"type": "array", "items": ref("FieldChange"), "description": "in the form's order"},
            "attachments": {"type": "array", "items": ref("AttachmentChange")},
            "supplements": {
                "type": "array",
                "description": "supplement answers submitted after `since`",
                "items": obj(
                    {
                        "revision": INT,
                        "request_id": INT,
                        "due_date": {"type": "string", "format": "date"},
                        "items": {"type": "array", "items": _ANSWERED_ITEM},
                    }
                ),
            },
        }
    ),
    "ReadMarkerUpdate": obj({"revision": {"type": "integer", "minimum": 1}}),
    "ReadMarker": obj({"revision": INT, "read_at": TIME}),
}
PATHS: dict[str, Any] = {
    "/applications/{application_id}/revisions": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "listRevisions",
            "summary": "Every submission (submit, resubmit, supply) of the application, oldest first",
            "responses": {"200": ok("Revisions", ref("RevisionList")), **problem_responses(401, 404)},
        },
    },
    "/applications/{application_id}/revisions/{number}": {
        "parameters": [PATH_ID, {"name": "number", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "getRevision",
            "summary": "One submission as it stood: form, current attachments, supplement answers",
            "responses": {"200": ok("The revision", ref("Revision")), **problem_responses(401, 404)},
        },
    },
    "/applications/{application_id}/changes": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "revisionChanges",
            "summary": "What changed from revision `since` to the latest",
            "description": "Without `since`: since the revision the caller last marked read (0 if none). "
            "The same bytes uploaded again are no change.",
            "parameters": [{"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": ok("The changes", ref("Changes")), **problem_responses(401, 404, 422)},
        },
    },
    "/applications/{application_id}/revisions/read": {
        "parameters": [PATH_ID],
        "put": {
            "operationId": "markRevisionsRead",
            "summary": "Mark revisions up to `revision` read by the caller (the marker never moves backwards)",
            "requestBody": json_body(ref("ReadMarkerUpdate")),
            "responses": {
                "200": ok("The caller's marker after the update", ref("ReadMarker")),
                **problem_responses(400, 401, 404, 415, 422),
            },
        },
    },
}
