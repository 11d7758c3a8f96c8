"""OpenAPI paths and schemas for the audit area: the auditor's events and verification."""

from __future__ import annotations

from typing import Any

from web.core.openapi import FREE, INT, STR, TIME, nullable, obj, ok, problem_responses, ref

_ONLY = " For the auditor only: any other caller gets 404, as for a path that does not exist."


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


SCHEMAS: dict[str, Any] = {
    "AuditEvent": obj(
        {
            "seq": INT,
            "occurred_at": TIME,
            "actor": STR,
            "actor_id": nullable(INT),
            "role": STR,
            "application_id": nullable(INT),
            "kind": {**STR, "description": "what happened (the event's outcome): transition, denied, logged_in …"},
            "trigger": nullable(STR),
            "from_state": nullable(STR),
            "to_state": nullable(STR),
            "payload": FREE,
            "request_id": nullable(STR),
            "key_id": nullable(STR),
            "prev_hash": STR,
            "hash": STR,
        }
    ),
    "AuditEvents": obj(
        {"total": INT, "page": INT, "per_page": INT, "items": {"type": "array", "items": ref("AuditEvent")}}
    ),
    "AuditVerification": obj(
        {
            "ok": {"type": "boolean"},
            "checked": INT,
            "broken_seq": nullable(INT),
            "reason": STR,
            "applications": INT,
            "head_hash": nullable(STR),
            "summary": STR,
        }
    ),
}

PATHS: dict[str, Any] = {
    "/audit/events": {
        "get": {
            "operationId": "auditEvents",
            "summary": "The audit chain's events, newest first, filtered and paged." + _ONLY,
            "parameters": [
                _query("application_id", {"type": "integer", "minimum": 1}, "events of this application"),
                _query("actor", STR, "events by this username"),
                _query("kind", STR, "events of this kind (outcome)"),
                _query("from", {"type": "string", "format": "date"}, "from this day (Beijing)"),
                _query("to", {"type": "string", "format": "date"}, "through this day (Beijing)"),
                _query("page", {"type": "integer", "minimum": 1}, "page, from 1"),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200}, "events a page (50)"),
            ],
            "responses": {"200": ok("The events", ref("AuditEvents")), **problem_responses(401, 404, 422)},
        }
    },
    "/audit/verify": {
        "post": {
            "operationId": "verifyAudit",
            "summary": "Walk the whole chain (each event's HMAC and link, the tip, each application against its last "
            "event): intact, or the first broken link. The run is recorded as an event (audit_verified); no event "
            "is changed." + _ONLY,
            "responses": {"200": ok("The verification", ref("AuditVerification")), **problem_responses(401, 404)},
        }
    },
}
