"""OpenAPI paths and schemas for the meters area: pushed readings and evidence snapshots."""

from __future__ import annotations

from typing import Any

from meters.charts import CHARTS, FORMATS
from meters.ingest import MAX_PUSH
from web.core.openapi import (
    FREE,
    INT,
    PATH_ID,
    STR,
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

DATE: Schema = {"type": "string", "format": "date"}

_RESULT = obj(
    {
        "check": STR,
        "value": nullable(STR),
        "threshold": nullable(STR),
        "passed": {"type": ["boolean", "null"], "description": "null: nothing to judge (e.g. no points required)"},
        "details": FREE,
    }
)
_INPUT = obj(
    {
        "meter": STR,
        "tier": INT,
        "energy_type": STR,
        "unit": STR,
        "interval_minutes": INT,
        "cumulative": {"type": "boolean"},
        "points": INT,
        "first": nullable(TIME),
        "last": nullable(TIME),
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    }
)

SCHEMAS: dict[str, Schema] = {
    "EvidenceSnapshot": obj(
        {
            "id": INT,
            "application_id": INT,
            "period": obj({"from": DATE, "to": DATE}),
            "taken_at": TIME,
            "taken_by": STR,
            "reason": STR,
            "rules": {**STR, "description": "the evidence rules' version, e.g. evidence@1"},
            "code": {**STR, "description": "the checks' own version"},
            "inputs": {"type": "array", "items": _INPUT, "description": "what the checks read, per meter"},
            "results": {"type": "array", "items": _RESULT},
            "figures": {
                **FREE,
                "description": "the series the pictures are drawn from (daily, completeness, gaps, pue); absent on "
                "snapshots taken before pictures were kept",
            },
            "charts": {**STRS, "description": "the pictures this snapshot can draw (see the charts path)"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "of all the fields above"},
        },
        required=[
            "id",
            "application_id",
            "period",
            "taken_at",
            "taken_by",
            "reason",
            "rules",
            "code",
            "inputs",
            "results",
            "charts",
            "sha256",
        ],
    ),
    "MeterReading": obj(
        {
            "point_code": {**STR, "description": "a meter registered for the caller's unit"},
            "timestamp": {**STR, "description": "ISO 8601; without an offset it is Asia/Shanghai's wall clock"},
            "value": {
                "anyOf": [{"type": "number"}, {"type": "string"}],
                "description": "the register reading of a cumulative meter, else the interval's quantity",
            },
        }
    ),
    "MeterReadings": obj({"readings": {"type": "array", "items": ref("MeterReading"), "maxItems": MAX_PUSH}}),
    "MeterReadingsStored": obj(
        {
            "inserted": INT,
            "unchanged": {**INT, "description": "already stored with the same value (a batch sent again)"},
            "refused": {
                "type": "array",
                "items": obj({"index": INT, "field": STR, "message": STR}),
                "description": "each refused reading by its index in the list (from 0); the others are stored",
            },
        }
    ),
}

PATHS: dict[str, Any] = {
    "/applications/{application_id}/evidence": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "latestEvidence",
            "summary": "The application's latest evidence snapshot (taken when it entered site verification)",
            "description": "Taken when the application entered site verification, or the monitoring fund's "
            "technical review. That review's pass_technical_review (POST …/transitions) reads ACCESS_RATIO_T1 from "
            "it: below its threshold (100 %), or with no snapshot, it needs payload {access_reason}, else 422 with "
            "field access_reason and code tier1_access_below or no_evidence.",
            "responses": {"200": ok("The snapshot", ref("EvidenceSnapshot")), **problem_responses(401, 404)},
        },
        "post": {
            "operationId": "takeEvidence",
            "summary": "Ask for a fresh snapshot (the agency's coordinator); the older ones stay",
            "description": "A worker takes it (a unit with a thousand meters takes minutes): the answer is 202 at "
            "once, with the audited request's number and, in Location, the address whose GET shows the latest "
            "snapshot. One snapshot per request, however often the task is delivered.",
            "responses": {
                "202": ok(
                    "Queued",
                    obj(
                        {
                            "request": {**INT, "description": "the audit event of the request (evidence_asked)"},
                            "status": {"type": "string", "enum": ["queued"]},
                            "latest": {**STR, "description": "where the latest snapshot is read (GET)"},
                        }
                    ),
                ),
                **problem_responses(401, 403, 404),
            },
        },
    },
    "/applications/{application_id}/evidence/{snapshot_id}/charts/{chart}.{fmt}": {
        "parameters": [
            PATH_ID,
            {"name": "snapshot_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
            {"name": "chart", "in": "path", "required": True, "schema": {"enum": list(CHARTS)}},
            {"name": "fmt", "in": "path", "required": True, "schema": {"enum": list(FORMATS)}},
        ],
        "get": {
            "operationId": "evidenceChart",
            "summary": "A picture of a snapshot's frozen figures (PNG or SVG): daily use, completeness, gaps, PUE",
            "responses": {
                "200": {
                    "description": "The picture; it never changes (the snapshot is frozen)",
                    "content": {
                        media: {"schema": {"type": "string", "format": "binary"}} for media in FORMATS.values()
                    },
                },
                **problem_responses(401, 404),
            },
        },
    },
    "/meters/readings": {
        "post": {
            "operationId": "pushMeterReadings",
            "summary": "Push a batch of the caller's unit's meter readings (its access-end system)",
            "description": "Idempotent by meter and time: a reading already stored with the same value is "
            "unchanged; with another value it is refused, never overwritten. A time without an offset is "
            "Asia/Shanghai's; storage is UTC.",
            "requestBody": json_body(ref("MeterReadings")),
            "responses": {
                "200": ok("What was stored and what was refused", ref("MeterReadingsStored")),
                **problem_responses(400, 401, 403, 415, 422),
            },
        }
    },
}
