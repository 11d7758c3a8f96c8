"""OpenAPI paths and schemas for the meters area: readings pushed by a unit's access-end system."""

from __future__ import annotations

from typing import Any

from meters.ingest import MAX_PUSH
from web.core.openapi import INT, STR, Schema, json_body, obj, ok, problem_responses, ref

SCHEMAS: dict[str, Schema] = {
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
