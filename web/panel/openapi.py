"""OpenAPI paths and schemas for the expert panel: draw, declarations, the visit."""

from __future__ import annotations

from typing import Any

from review.panels import SEED_MAX
from web.core.openapi import INT, PATH_ID, STR, STRS, TIME, Schema, json_body, nullable, obj, ok, problem_responses, ref

BOOL: Schema = {"type": "boolean"}
DIGEST: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the pool's canonical JSON"}

SCHEMAS: dict[str, Schema] = {
    "PanelDrawRequest": obj(
        {
            "size": {"type": "integer", "minimum": 1, "description": "how many to draw (default: PANEL_SIZE)"},
            "seed": {
                "type": "string",
                "minLength": 1,
                "maxLength": SEED_MAX,
                "description": "the draw's seed (default: 32 random hex digits)",
            },
        },
        required=[],
    ),
    "PanelDrawn": {
        **obj(
            {
                "members": {
                    "type": "array",
                    "items": obj({"username": STR, "leader": BOOL}),
                    "description": "in draw order; the first leads",
                },
                "seed": STR,
                "pool_digest": DIGEST,
                "pool_size": {**INT, "description": "experts eligible at the draw"},
                "excluded": {**INT, "description": "experts left out (employer, ties, district, conflicts)"},
                "draw": {**INT, "description": "the draw's number for this application (1, 2, …)"},
            }
        ),
        "description": "random.Random(f'{seed}:{pool_digest}').sample(sorted usernames, size) gives `members` again",
    },
    "PanelMember": obj(
        {
            "username": STR,
            "name": STR,
            "employer": {**STR, "description": "the expert's employer, as the pool records it ('' if none)"},
            "leader": BOOL,
            "active": {**BOOL, "description": "on the panel now (false: left on a declared conflict)"},
            "declared": BOOL,
            "declared_at": nullable(TIME),
            "conflict": nullable({**BOOL, "description": "null until declared"}),
        }
    ),
    "PanelDrawRecord": obj(
        {
            "number": INT,
            "reason": {"enum": ["initial", "replacement"]},
            "seed": STR,
            "pool_digest": DIGEST,
            "pool_size": INT,
            "excluded": {**INT, "description": "how many experts were left out"},
            "size": INT,
            "drawn": {**STRS, "description": "usernames in draw order"},
            "replaced": nullable({**STR, "description": "who a replacement draw replaced"}),
            "drawn_at": TIME,
        }
    ),
    "PanelVisit": obj(
        {
            "visit_at": TIME,
            "place": STR,
            "note": STR,
            "scheduled_by": nullable(STR),
            "scheduled_at": TIME,
            "steps": {**ref("VisitSteps"), "description": "what the panel noted at each step (not for the applicant)"},
        },
        required=["visit_at", "place", "note", "scheduled_by", "scheduled_at"],
    ),
    "VisitStep": obj({"label": STR, "label_en": STR, "notes": STR}),
    "VisitSteps": {
        **obj(
            {
                "presentation": ref("VisitStep"),
                "inspection": ref("VisitStep"),
                "noted_by": nullable(STR),
                "noted_at": nullable(TIME),
            }
        ),
        "description": "seed 002 §五(二): (1) 汇报与现场演示, (2) 勘察提问; empty notes until the leader records them",
    },
    "VisitStepsUpdate": obj(
        {
            "presentation": {"type": "string", "maxLength": 4000, "description": "汇报与现场演示: what was presented"},
            "inspection": {
                "type": "string",
                "maxLength": 4000,
                "description": "勘察提问: what was inspected and asked",
            },
        }
    ),
    "Panel": {
        **obj(
            {
                "application_id": INT,
                "members": {"type": "array", "items": ref("PanelMember")},
                "draws": {"type": "array", "items": ref("PanelDrawRecord")},
                "size": {**INT, "description": "the size of the latest initial draw (0: none yet)"},
                "short": {**INT, "description": "seats left empty because nobody eligible was left to draw"},
                "visit": nullable(ref("PanelVisit")),
            }
        ),
        "description": "The applicant sees the visit only (members and draws empty)",
    },
    "PanelDeclarationRequest": obj(
        {"conflict": BOOL, "note": {**STR, "description": "required when conflict is true"}}, required=["conflict"]
    ),
    "PanelDeclaration": obj(
        {
            "application_id": INT,
            "conflict": BOOL,
            "declared_at": TIME,
            "replaced": {**BOOL, "description": "after a conflict: whether a replacement was drawn"},
        }
    ),
    "PanelVisitUpdate": obj(
        {
            "visit_at": {**TIME, "description": "in the future; without a zone it is Shanghai time"},
            "place": {**STR, "maxLength": 300},
            "note": STR,
        },
        required=["visit_at", "place"],
    ),
}

PATHS: dict[str, Any] = {
    "/applications/{application_id}/panel": {
        "parameters": [PATH_ID],
        "post": {
            "operationId": "drawPanel",
            "summary": "Draw the expert panel from the experts eligible for this application (coordinator)",
            "description": "Only in site_verification and while no panel sits (409 `panel_conflict`). Left out: "
            "experts employed by the applicant or its service company, with a declared tie to either, of the "
            "applicant's district (if PANEL_EXCLUDE_SAME_DISTRICT), or who declared a conflict here before.",
            "requestBody": {**json_body(ref("PanelDrawRequest")), "required": False},
            "responses": {
                "201": ok(
                    "The draw",
                    ref("PanelDrawn"),
                    {"Location": {"description": "The panel's URL", "schema": STR}},
                ),
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
        "get": {
            "operationId": "getPanel",
            "summary": "The panel, its draws (seed and pool digest, to reproduce them) and the site visit",
            "responses": {"200": ok("The panel", ref("Panel")), **problem_responses(401, 404)},
        },
    },
    "/applications/{application_id}/panel/declaration": {
        "parameters": [PATH_ID],
        "post": {
            "operationId": "declareOnPanel",
            "summary": "Declare on conflicts of interest (the drawn expert, before the file opens to them)",
            "description": "No conflict opens the application to the expert. A conflict (with a note) ends their "
            "seat and draws a replacement from those eligible now; if nobody is left the panel stays short. "
            "404 without an active seat; 409 `panel_conflict` when already declared.",
            "requestBody": json_body(ref("PanelDeclarationRequest")),
            "responses": {
                "200": ok("The declaration", ref("PanelDeclaration")),
                **problem_responses(400, 401, 404, 409, 415, 422),
            },
        },
    },
    "/applications/{application_id}/visit": {
        "parameters": [PATH_ID],
        "put": {
            "operationId": "scheduleVisit",
            "summary": "Set or move the site visit (coordinator); the applicant and the panel are notified",
            "requestBody": json_body(ref("PanelVisitUpdate")),
            "responses": {
                "200": ok("The visit", ref("PanelVisit")),
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
    "/applications/{application_id}/visit/steps": {
        "parameters": [PATH_ID],
        "put": {
            "operationId": "noteVisitSteps",
            "summary": "The panel leader notes each step of the visit (seed 002 §五(二)); open from the visit's day "
            "(409 before_visit_day before it); conclude needs both noted",
            "requestBody": json_body(ref("VisitStepsUpdate")),
            "responses": {
                "200": ok("The steps as noted", ref("VisitSteps")),
                **problem_responses(400, 401, 403, 404, 409, 415, 422),
            },
        },
    },
}
