"""OpenAPI paths and schemas for the inbox area: the caller's notifications and mail settings."""

from __future__ import annotations

from typing import Any

from web.core.openapi import FREE, INT, STR, TIME, json_body, nullable, obj, ok, problem_responses, ref

MODE = {"type": "string", "enum": ["immediate", "digest", "never"]}
KIND = {
    "type": "string",
    "enum": [
        "your_turn",
        "status_changed",
        "panel_assigned",
        "site_visit",
        "deadline_near",
        "visit_tomorrow",
        "approval_waiting",
        "queue_digest",
    ],
}

SCHEMAS: dict[str, Any] = {
    "InboxEntry": obj(
        {
            "id": INT,
            "kind": KIND,
            "kind_label": ref("Label"),
            "application_id": nullable(INT),
            "application": nullable(
                obj(
                    {
                        "id": INT,
                        "reference": {**nullable(STR), "description": "申报编号, once submitted"},
                        "project_name": STR,
                        "organisation": STR,
                        "state": STR,
                        "state_label": ref("Label"),
                    }
                )
            ),
            "event": nullable(obj({"trigger": nullable(STR), "label": ref("Label")})),
            "note": {**STR, "description": "the comment or the points addressed to the reader ('' if none)"},
            "due_on": {"type": ["string", "null"], "format": "date", "description": "act by this day (Beijing)"},
            "data": {
                **FREE,
                "description": "a reminder's figures: days_left, waited_days, visit, items; an event's reference",
            },
            "link": {**STR, "description": "the page to open (the application's)"},
            "created_at": TIME,
            "read_at": nullable(TIME),
        }
    ),
    "Inbox": obj(
        {
            "total": INT,
            "unread": INT,
            "page": INT,
            "per_page": INT,
            "items": {"type": "array", "items": ref("InboxEntry")},
        }
    ),
    "MailPreferences": obj(
        {
            "email": nullable(STR),
            "language": {"type": "string", "enum": ["zh", "en"]},
            "phone": nullable(STR),
            "modes": {"type": "object", "additionalProperties": MODE},
            "kinds": {
                "type": "array",
                "items": obj({"kind": KIND, "label": ref("Label"), "deadline": {"type": "boolean"}, "mode": MODE}),
            },
        }
    ),
    "MailPreferencesChange": obj(
        {
            "email": {**STR, "description": "'' removes it"},
            "language": {"type": "string", "enum": ["zh", "en"]},
            "phone": {**STR, "description": "for deadline texts; '' removes it"},
            "modes": {"type": "object", "additionalProperties": MODE, "description": "kind → mode; not deadlines"},
        },
        required=[],
    ),
}

PATHS: dict[str, Any] = {
    "/inbox": {
        "get": {
            "operationId": "inbox",
            "summary": "The caller's notifications, newest first, paged, with the unread count",
            "parameters": [
                {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                {
                    "name": "unread",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["true", "false"]},
                },
            ],
            "responses": {"200": ok("The notifications", ref("Inbox")), **problem_responses(401, 422)},
        }
    },
    "/inbox/{notification_id}/read": {
        "post": {
            "operationId": "markNotificationRead",
            "summary": "Mark one of the caller's notifications read (someone else's is 404)",
            "parameters": [{"name": "notification_id", "in": "path", "required": True, "schema": INT}],
            "responses": {
                "200": ok("Marked", obj({"id": INT, "read_at": TIME, "unread": INT})),
                **problem_responses(401, 404),
            },
        }
    },
    "/inbox/read-all": {
        "post": {
            "operationId": "markAllNotificationsRead",
            "summary": "Mark all the caller's notifications read",
            "responses": {"200": ok("Marked", obj({"marked": INT, "unread": INT})), **problem_responses(401)},
        }
    },
    "/inbox/preferences": {
        "get": {
            "operationId": "mailPreferences",
            "summary": "The caller's e-mail address, language of mail, phone and per-kind modes",
            "responses": {"200": ok("Preferences", ref("MailPreferences")), **problem_responses(401)},
        },
        "put": {
            "operationId": "setMailPreferences",
            "summary": "Change any of them; deadlines are always sent at once (422 deadline_always_sent)",
            "requestBody": json_body(ref("MailPreferencesChange")),
            "responses": {"200": ok("Preferences", ref("MailPreferences")), **problem_responses(400, 401, 415, 422)},
        },
    },
}
