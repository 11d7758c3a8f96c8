"""OpenAPI paths and schemas for the desk queues; merged into web.core.openapi.document()."""

from __future__ import annotations

from typing import Any

from review.completeness import STATUSES
from review.prereview import CHECKS, FINDINGS
from review.queues import MAX_PAGE, MAX_PER_PAGE, ORDERS, SORTS, WAITING_FOR, WAITING_ON
from web.core.openapi import INT, PATH_ID, STR, TIME, Schema, nullable, obj, ok, problem_responses, ref

DATE: Schema = {"type": "string", "format": "date"}
BOOL: Schema = {"type": "boolean"}
_query = [
    {"name": "kind", "in": "query", "schema": STR, "description": "an applicant kind: enterprise, data_centre, park"},
    {"name": "district", "in": "query", "schema": STR, "description": "a district, e.g. 闵行区"},
    {"name": "programme", "in": "query", "schema": STR, "description": "a programme code"},
    {
        "name": "sort",
        "in": "query",
        "schema": {"enum": list(SORTS), "default": "waiting"},
        "description": "waiting: by when the application entered its state; kind; district",
    },
    {
        "name": "order",
        "in": "query",
        "schema": {"enum": list(ORDERS)},
        "description": "default desc for waiting (longest waiting first), asc (A to Z) for kind and district",
    },
    {
        "name": "waiting_on",
        "in": "query",
        "schema": {"enum": list(WAITING_ON), "default": "desk"},
        "description": "desk: waiting for the caller's desk; applicant: handed back to the applicant "
        "(returned, supplement requested) and watched",
    },
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 25},
    },
]
_DECISION: dict[str, Schema] = {"decision": STR, "decision_label": ref("Label")}

SCHEMAS: dict[str, Any] = {
    "DeskRow": obj(
        {
            "id": INT,
            "project_name": STR,
            "organisation": STR,
            "kind": STR,
            "district": nullable(STR),
            "programme": {"type": "string", "description": "the programme's code"},
            "state": STR,
            "state_label": ref("Label"),
            "version": INT,
            "waiting_since": {**TIME, "description": "when the application entered its state"},
            "waiting_days": {"type": "integer", "minimum": 0, "description": "days since then, Shanghai calendar"},
            "waiting_for": obj(
                {"code": {"enum": list(WAITING_FOR)}, "label": ref("Label")},
            ),
            "due_date": {**nullable(DATE), "description": "the open deadline's last day (Shanghai)"},
        }
    ),
    "UndeclaredAssignment": {
        **obj({"project_name": STR, "organisation": STR, "district": nullable(STR), "assigned_at": TIME}),
        "description": "An expert's assignment still to declare (declare at /assignments); the file stays closed",
    },
    "DeskQueue": obj(
        {
            "role": STR,
            "waiting_on": {"enum": list(WAITING_ON)},
            "states": {"type": "array", "items": STR, "description": "the states this list holds (empty: no desk)"},
            "counts": {
                "type": "object",
                "additionalProperties": INT,
                "description": "rows on each of the role's lists under the same filters",
            },
            "sort": {"enum": list(SORTS)},
            "order": {"enum": list(ORDERS)},
            "total": INT,
            "page": INT,
            "per_page": INT,
            "items": {"type": "array", "items": ref("DeskRow")},
            "undeclared": {"type": "array", "items": ref("UndeclaredAssignment")},
        }
    ),
    "PreReviewRecord": {
        **obj(
            {
                **_DECISION,
                "opinion": STR,
                "points": {"type": "array", "items": STR, "description": "points to correct, or the reasons"},
                "created_at": TIME,
                "id": INT,
                "checks": obj({name: {"enum": list(FINDINGS)} for name in CHECKS}),
                "reviewer": nullable(STR),
                "event_seq": nullable(INT),
            },
            ["decision", "decision_label", "opinion", "points", "created_at"],
        ),
        "description": "The applicant gets returns and rejections only, without id, checks, reviewer and event_seq",
    },
    "PreReviewList": obj({"items": {"type": "array", "items": ref("PreReviewRecord")}}),
    "ChecklistDocument": obj(
        {
            "id": {
                "type": "string",
                "description": "an attachment category (the version's [attachments]); data_centre_platform is a "
                "v1 data centre's form tick (from @2 the document dc_platform_confirmation)",
            },
            "text": ref("Label"),
            "why": {**nullable(ref("Label")), "description": "the fact that makes it required, if any"},
            "present": BOOL,
            "attachment": nullable(obj({"id": INT, "filename": STR, "version": INT, "download_url": STR})),
        }
    ),
    "CompletenessReviewItem": obj(
        {
            "id": STR,
            "text": STR,
            "status": {"enum": list(STATUSES)},
            "note": STR,
            "attachment_id": nullable(INT),
        }
    ),
    "SupplementRequest": obj(
        {
            "id": INT,
            "items": {
                "type": "array",
                "items": obj({"id": STR, "text": STR, "answer": nullable(STR)}),
            },
            "due_date": DATE,
            "requested_at": TIME,
            "answered_at": nullable(TIME),
        }
    ),
    "Completeness": obj(
        {
            "checklist": {"type": "array", "items": ref("ChecklistDocument")},
            "latest_review": {
                **nullable(
                    obj(
                        {
                            **_DECISION,
                            "items": {"type": "array", "items": ref("CompletenessReviewItem")},
                            "created_at": TIME,
                            "event_seq": nullable(INT),
                        }
                    )
                ),
                "description": "null before the first decision, and always for the applicant (the reviewer's notes)",
            },
            "supplement_requests": {"type": "array", "items": ref("SupplementRequest")},
            "default_due_date": {
                **nullable(DATE),
                "description": "the due date a supplement request made now gets when it names none",
            },
        }
    ),
}

PATHS: dict[str, Any] = {
    "/desk": {
        "get": {
            "operationId": "deskQueue",
            "summary": "What waits on the caller's review desk, longest waiting first",
            "description": "Only applications the caller may see. District reviewers: district_review (and returned "
            "with waiting_on=applicant); municipal reviewers: completeness_check (supplement_requested); "
            "coordinators and experts: site_verification; metering institute: technical_review; regulator: "
            "regulator_approval; finance: funding_review, award_proposed, award_approved.",
            "parameters": _query,
            "responses": {"200": ok("One page of the queue", ref("DeskQueue")), **problem_responses(401, 422)},
        }
    },
    "/applications/{application_id}/prereviews": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "listPreReviews",
            "summary": "The district pre-review records, oldest first",
            "description": "Decisions are taken with POST …/transitions: pass_prereview with payload "
            "{checks: {form_authenticity, legal_entity, operations, finances: ok|problem|not_checked}, opinion}; "
            "return_for_correction and reject with comment and payload {points, opinion, checks}.",
            "responses": {"200": ok("The records", ref("PreReviewList")), **problem_responses(401, 404)},
        },
    },
    "/applications/{application_id}/completeness": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "getCompleteness",
            "summary": "The per-document checklist, the latest completeness review, the supplement requests",
            "description": "Decisions are taken with POST …/transitions: request_supplement with payload {items, "
            "due_date (optional; after today and a working day, else 422 not_in_future / not_working_day), "
            "documents: {item id: {status: present|missing|insufficient, note}}}; confirm_complete with {documents} "
            "(422 with one problem per item marked missing or insufficient, field documents.<item>, code "
            "marked_missing / marked_insufficient); reject with comment and {documents}.",
            "responses": {"200": ok("The checklist and records", ref("Completeness")), **problem_responses(401, 404)},
        },
    },
}
