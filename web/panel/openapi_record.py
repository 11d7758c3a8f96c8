"""OpenAPI paths and schemas for the verification record (.docx); merged into web.core.openapi.document()."""

from __future__ import annotations

from typing import Any

from web.core.openapi import DOCX_RESPONSE, INT, problem_responses

RECORD_RESPONSE = {
    **DOCX_RESPONSE,
    "description": "The site-verification record (现场核查记录) as a Word document, 现场核查记录_<id>.docx",
}

PATHS: dict[str, Any] = {
    "/applications/{application_id}/documents/verification-record": {
        "parameters": [{"name": "application_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "verificationRecordDocument",
            "summary": "The site-verification record as .docx: 附表1/附表2 with the panel's results, each expert's "
            "signed sheet, the photos and the conclusion",
            "description": "For the panel members, the agency coordinator, the municipal reviewer, finance, admins "
            "and auditors; the applicant once the panel has concluded (403 before). Where the experts disagree "
            "on a criterion, each one's result is printed beside their name. 404 when the application is not "
            "visible to the caller or has no panel yet; 403 for any other role.",
            "responses": {"200": RECORD_RESPONSE, **problem_responses(401, 403, 404)},
        },
    },
}
SCHEMAS: dict[str, Any] = {}
