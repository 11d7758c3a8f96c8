"""OpenAPI for the checklist routes (web/api_checklist.py): sheets, photos, signatures, consensus."""

from __future__ import annotations

from typing import Any

from review.checklists import RESULTS
from review.photos import PHOTO_MAX_BYTES
from review.scoring import MAX_RESULTS, NOTE_MAX
from web.core.openapi import INT, PATH_ID, STR, STRS, TIME, Schema, json_body, nullable, obj, ok, problem_responses, ref

NUMBER: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
SHA256: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
RESULT: Schema = {"enum": [*RESULTS, None], "description": "符合 / 不符合 / 不适用; null: no result yet"}
SCORE: Schema = nullable({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "description": "a decimal, as text"})
AGREEMENT: Schema = {
    "enum": ["agree", "disagree", "pending"],
    "description": "pending until every member's submitted sheet has a result here",
}
PHOTO_TYPES = ("image/jpeg", "image/png")

_WHO_SEES = (
    "Only an expert on the application's panel who has declared no conflict of interest, and only their own "
    "sheet; 404 for anyone else, exactly as for a missing application."
)

EVIDENCE_SLOTS: Schema = {
    "type": "array",
    "description": "meter-evidence checks that back the criterion, with the latest snapshot's figures",
    "items": obj(
        {
            "check": STR,
            "result": {
                **nullable(
                    obj(
                        {
                            "value": nullable(STR),
                            "threshold": nullable(STR),
                            "passed": {"type": ["boolean", "null"]},
                            "snapshot_id": INT,
                            "period": obj({"from": STR, "to": STR}),
                            "chart": {
                                "type": ["string", "null"],
                                "enum": ["daily", "completeness", "gaps", "pue", None],
                                "description": "the picture beside the figure: GET "
                                "/applications/{id}/evidence/{snapshot_id}/charts/{chart}.svg (or .png)",
                            },
                        }
                    )
                ),
                "description": "the latest evidence snapshot's figure; null until one is taken",
            },
        }
    ),
}


SCHEMAS: dict[str, Schema] = {
    "ChecklistPhoto": obj(
        {
            "id": INT,
            "criterion": STR,
            "client_id": {"type": "string", "description": "the device's name for the photo (idempotency)"},
            "content_type": {"enum": list(PHOTO_TYPES), "description": "decided from the bytes"},
            "size": INT,
            "sha256": SHA256,
            "taken_at": nullable(TIME),
            "latitude": nullable(NUMBER),
            "longitude": nullable(NUMBER),
            "accuracy_m": nullable({**NUMBER, "description": "the location's accuracy in metres"}),
            "download_url": STR,
        }
    ),
    "ChecklistCriterion": obj(
        {
            "id": {"type": "string", "description": "category.number, e.g. 2.1"},
            "text": {"type": "string", "description": "the criterion word for word as the table prints it"},
            "weight": NUMBER,
            "max_score": {
                **NUMBER,
                "description": "the scale: a score lies from 0 to this (a local setting; the seed gives no scores)",
            },
            "not_applicable_allowed": {
                **BOOL,
                "description": "whether 不适用 may be recorded (the checklist data says where: the category-6 effects)",
            },
            "claims": {
                "type": "array",
                "description": "what the application's form claims for this criterion (form @2), as the page shows it",
                "items": obj({"field": STR, "label": STR, "label_en": STR, "value": STR}),
            },
            "evidence": EVIDENCE_SLOTS,
            "result": RESULT,
            "score": SCORE,
            "note": STR,
            "revision": {"type": "integer", "minimum": 0, "description": "rises with each change; 0: never answered"},
            "changed_at": nullable({**TIME, "description": "when the expert changed it (the device's clock)"}),
            "photos": {"type": "array", "items": ref("ChecklistPhoto")},
        }
    ),
    "ChecklistCategory": obj(
        {
            "id": STR,
            "title": STR,
            "preamble": STR,
            "rule": {
                "enum": ["all", "any"],
                "description": "all: conforms when every criterion does; any: when one does (一种或多种效果)",
            },
            "criteria": {"type": "array", "items": ref("ChecklistCriterion")},
        }
    ),
    "ChecklistSheet": {
        **obj(
            {
                "application_id": INT,
                "checklist": obj(
                    {
                        "ref": {"type": "string", "description": "code@version, e.g. emc-checklist-park@1"},
                        "annex": {"type": "string", "description": "附表1 or 附表2"},
                        "title": STR,
                        "group": STR,
                    }
                ),
                "results": obj({key: ref("Label") for key in RESULTS}),
                "categories": {"type": "array", "items": ref("ChecklistCategory")},
                "leader": {**BOOL, "description": "whether the caller leads the panel (and concludes for it)"},
                "complete": {**BOOL, "description": "every criterion has a result"},
                "weighted_score": nullable(
                    {**STR, "description": "Σ score × the criterion's weight over the scored criteria (decimal text)"}
                ),
                "missing": {**STRS, "description": "criteria without a result, in the table's order"},
                "submitted_at": nullable({**TIME, "description": "set once signed and submitted; final after"}),
                "signed_name": nullable(STR),
                "scale_is_local": {**BOOL, "description": "the score scale is a local setting, not the seed's"},
                "visit": obj(
                    {
                        "day": nullable({"type": "string", "format": "date", "description": "Shanghai date"}),
                        "open": {**BOOL, "description": "the visit's day has come: results, photos, submit open"},
                    }
                ),
            }
        ),
        "description": "One expert's own sheet; criteria that do not apply to the applicant's kind are left out "
        "(2.3 of 附表1 is for data centres only)",
    },
    "ChecklistResultInput": obj(
        {
            "criterion": STR,
            "result": RESULT,
            "score": {"anyOf": [NUMBER, STR, {"type": "null"}], "description": "from 0, at most 2 decimals"},
            "note": nullable({"type": "string", "maxLength": NOTE_MAX}),
            "base_revision": {
                "type": "integer",
                "minimum": 0,
                "description": "the revision the change started from (a tablet syncing after being offline); "
                "if the server's answer has moved on since, the change is not saved but returned as a conflict",
            },
            "changed_at": {**TIME, "description": "when the expert made the change, by the device's clock"},
        },
        ["criterion"],
    ),
    "ChecklistSave": obj(
        {
            "results": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_RESULTS,
                "items": ref("ChecklistResultInput"),
            }
        }
    ),
    "ChecklistAnswer": obj(
        {"result": RESULT, "score": SCORE, "note": STR, "revision": INT, "changed_at": nullable(TIME)}
    ),
    "ChecklistConflict": {
        **obj(
            {
                "criterion": STR,
                "yours": obj({"result": RESULT, "score": SCORE, "note": STR, "base_revision": INT}),
                "theirs": ref("ChecklistAnswer"),
            }
        ),
        "description": "Not saved: the answer changed on the server after `base_revision`; send it again with "
        "`base_revision` = theirs.revision to keep yours",
    },
    "ChecklistSaveResult": obj(
        {
            "saved": {**STRS, "description": "criteria whose answer changed"},
            "unchanged": {**STRS, "description": "criteria sent with the values already saved (never a conflict)"},
            "conflicts": {"type": "array", "items": ref("ChecklistConflict")},
            "sheet": ref("ChecklistSheet"),
        }
    ),
    "ChecklistPhotoUpload": obj(
        {
            "photo": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": f"JPEG or PNG, decided by its bytes; at most {PHOTO_MAX_BYTES} bytes",
            },
            "criterion": STR,
            "client_id": {
                "type": "string",
                "maxLength": 64,
                "description": "the device's name for the photo: sent again, the photo already kept is answered",
            },
            "taken_at": {**TIME, "description": "with its UTC offset"},
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            "accuracy_m": {"type": "number", "minimum": 0},
        },
        ["photo", "criterion", "client_id"],
    ),
    "ChecklistSubmit": obj(
        {
            "signature_png_base64": {
                "type": "string",
                "contentEncoding": "base64",
                "contentMediaType": "image/png",
                "description": "the drawn signature as a PNG, base64 (a data:image/png;base64, URL is accepted)",
            },
            "signed_name": {"type": "string", "maxLength": 200},
            "confirm": {"const": True, "description": "the expert confirms the results are their own findings"},
        }
    ),
    "ConsensusExpert": obj(
        {
            "username": STR,
            "name": STR,
            "leader": BOOL,
            "declared": {**BOOL, "description": "has declared on conflicts of interest"},
            "submitted_at": nullable(TIME),
        }
    ),
    "ConsensusResult": obj(
        {
            "username": STR,
            "result": RESULT,
            "note": STR,
            "score": SCORE,
            "photos": {"type": "array", "items": INT, "description": "photo ids: GET /checklist-photos/{id}"},
        }
    ),
    "ConsensusCriterion": obj(
        {
            "criterion": STR,
            "category": STR,
            "text": STR,
            "agreement": AGREEMENT,
            "results": {"type": "array", "items": ref("ConsensusResult"), "description": "one per member"},
            "evidence": EVIDENCE_SLOTS,
        },
        # Consensuses concluded before the evidence was shown have none.
        required=["criterion", "category", "text", "agreement", "results"],
    ),
    "ConsensusCategory": obj(
        {
            "category": STR,
            "title": STR,
            "rule": {"enum": ["all", "any"]},
            "agreement": AGREEMENT,
            "results": {
                "type": "array",
                "description": "each member's finding for the category, by its rule",
                "items": obj({"username": STR, "result": RESULT}),
            },
        }
    ),
    "Consensus": {
        **obj(
            {
                "application_id": INT,
                "checklist": nullable(STR),
                "experts": {"type": "array", "items": ref("ConsensusExpert"), "description": "the leader first"},
                "complete": {**BOOL, "description": "every member has submitted a signed sheet"},
                "withheld": {
                    **BOOL,
                    "description": "true for an expert who has not submitted their own sheet: no one's results "
                    "are shown to them yet",
                },
                "criteria": {"type": "array", "items": ref("ConsensusCriterion")},
                "categories": {"type": "array", "items": ref("ConsensusCategory")},
                "overall": obj(
                    {
                        "agreement": AGREEMENT,
                        "findings": {
                            "type": "array",
                            "items": obj(
                                {
                                    "username": STR,
                                    "finding": {"enum": ["conform", "nonconform", None]},
                                    "weighted_score": nullable(STR),
                                }
                            ),
                        },
                    }
                ),
                "disagreements": {**STRS, "description": "criteria on which the submitted results differ"},
            }
        ),
        "description": "Only submitted sheets count; dissent is kept, and the leader's conclusion stores this as "
        "it stood",
    },
}

_SHEET_CHANGE = (400, 401, 404, 409, 415, 422)

PATHS: dict[str, Any] = {
    "/applications/{application_id}/checklist": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "getChecklist",
            "summary": "The caller's own checklist sheet (附表1 or 附表2) with their results",
            "description": _WHO_SEES + " Category and checklist titles are in English on `?lang=en` or "
            "`Accept-Language: en`.",
            "parameters": [{"name": "lang", "in": "query", "schema": {"enum": ["zh", "en"]}}],
            "responses": {"200": ok("The sheet", ref("ChecklistSheet")), **problem_responses(401, 404)},
        },
        "put": {
            "operationId": "saveChecklist",
            "summary": "Save some results (a null result clears one)",
            "description": _WHO_SEES + " Only in site_verification and before the sheet is submitted (409 "
            "`sheet_submitted` after). An answer sent with a `base_revision` older than the server's is not saved "
            "but returned in `conflicts` with both values; the same values again are `unchanged`, never a conflict.",
            "requestBody": json_body(ref("ChecklistSave")),
            "responses": {
                "200": ok("What was saved, and the sheet after", ref("ChecklistSaveResult")),
                **problem_responses(*_SHEET_CHANGE),
            },
        },
    },
    "/applications/{application_id}/checklist/photos": {
        "parameters": [PATH_ID],
        "post": {
            "operationId": "uploadChecklistPhoto",
            "summary": "Keep a photo as evidence for one criterion of the caller's sheet",
            "description": _WHO_SEES + f" JPEG or PNG (by its bytes) of at most {PHOTO_MAX_BYTES} bytes. The same "
            "`client_id` again answers 200 with the photo already kept, even after the sheet is submitted; a "
            "`client_id` that names another photo is refused (422 `client_id_reused`).",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": ref("ChecklistPhotoUpload"),
                        "encoding": {"photo": {"contentType": "image/jpeg, image/png"}},
                    }
                },
            },
            "responses": {
                "201": ok(
                    "Kept", ref("ChecklistPhoto"), {"Location": {"description": "The photo's URL", "schema": STR}}
                ),
                "200": ok(
                    "Already kept under this client_id",
                    ref("ChecklistPhoto"),
                    {"Location": {"description": "The photo's URL", "schema": STR}},
                ),
                **problem_responses(400, 401, 404, 409, 413, 415, 422),
            },
        },
    },
    "/checklist-photos/{photo_id}": {
        "parameters": [{"name": "photo_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "getChecklistPhoto",
            "summary": "A checklist photo, as a download",
            "description": "For those who may see the application and are: an expert on its panel (their own "
            "photos, and the others' once their own sheet is submitted), the municipal reviewer, the agency "
            "coordinator, admin or auditor. 404 for anyone else (applicants, district reviewers, finance).",
            "responses": {
                "200": {
                    "description": "The photo",
                    "headers": {
                        "Content-Disposition": {"description": "Always attachment", "schema": STR},
                        "X-Content-Type-Options": {"schema": {"const": "nosniff"}},
                        "ETag": {"description": "The SHA-256 of the bytes", "schema": STR},
                    },
                    "content": {t: {"schema": {"type": "string", "contentMediaType": t}} for t in PHOTO_TYPES},
                },
                **problem_responses(401, 404),
            },
        },
    },
    "/applications/{application_id}/checklist/submit": {
        "parameters": [PATH_ID],
        "post": {
            "operationId": "submitChecklist",
            "summary": "Sign and submit the caller's sheet; it is final after",
            "description": _WHO_SEES + " 422 names every criterion without a result (`results.<id>`, code "
            "`no_result`), a missing or non-PNG signature, a blank name and a missing confirmation, all together; "
            "409 `sheet_submitted` once submitted.",
            "requestBody": json_body(ref("ChecklistSubmit")),
            "responses": {"200": ok("The submitted sheet", ref("ChecklistSheet")), **problem_responses(*_SHEET_CHANGE)},
        },
    },
    "/applications/{application_id}/consensus": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "getConsensus",
            "summary": "The panel's results side by side: agreement per criterion and category, each finding",
            "description": "For anyone who may see the application except the applicant (403): the panel's "
            "experts, the agency coordinator, the municipal and district reviewers, finance, admin and auditor. "
            "An expert who has not submitted their own sheet sees who has submitted but no one's results "
            "(`withheld`: true). The leader then concludes with POST /applications/{id}/transitions, trigger "
            "`conclude_pass` or `conclude_fail` and the panel's reasons as `comment`: 422 names each member "
            "who has not declared or submitted and each criterion still without a result; 403 for a member "
            "who is not the leader.",
            "parameters": [{"name": "lang", "in": "query", "schema": {"enum": ["zh", "en"]}}],
            "responses": {"200": ok("The consensus", ref("Consensus")), **problem_responses(401, 403, 404)},
        },
    },
}
