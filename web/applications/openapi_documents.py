"""OpenAPI paths for the applicant's documents (.docx): the commitment, 附件3, 附件2 (merged by web.core.openapi)."""

from __future__ import annotations

from typing import Any

from applications.models import AUTHORISER_ROLES
from web.core.openapi import DOCX_RESPONSE, INT, json_body, obj, problem_responses

PATHS: dict[str, Any] = {
    "/applications/{application_id}/documents/authenticity-commitment": {
        "parameters": [{"name": "application_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "authenticityCommitmentDocument",
            "summary": "申报材料真实性承诺书 filled in from the form, as .docx (the applicant only)",
            "responses": {"200": DOCX_RESPONSE, **problem_responses(401, 403, 404)},
        },
    },
    "/applications/{application_id}/documents/credit-authorisation": {
        "parameters": [{"name": "application_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "creditAuthorisationAgain",
            "summary": "附件3 again, as .docx, from the recorded authoriser (the applicant only)",
            "description": "404 (code not_found) until an authoriser has been recorded with POST.",
            "responses": {"200": DOCX_RESPONSE, **problem_responses(401, 403, 404)},
        },
        "post": {
            "operationId": "creditAuthorisationDocument",
            "summary": "Record who authorises the credit query and get 附件3 as .docx",
            "description": "The applicant, while the form is editable or a supplement is requested. The ID number "
            "is checked (GB 11643; 422 code invalid_id_card) and stored encrypted; the application and the audit "
            "trail show it masked. A new POST records a new authoriser; the previous one is kept.",
            "requestBody": json_body(
                obj(
                    {
                        "person_name": {"type": "string", "maxLength": 100},
                        "id_card": {"type": "string", "description": "18 characters, GB 11643 check character"},
                        "role": {"enum": list(AUTHORISER_ROLES)},
                    }
                )
            ),
            "responses": {"200": DOCX_RESPONSE, **problem_responses(400, 401, 403, 404, 409, 415, 422)},
        },
    },
    "/applications/{application_id}/documents/application-form": {
        "parameters": [{"name": "application_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "applicationFormDocument",
            "summary": "附件2 项目申请表 and 验收申请报告 from the form, as .docx (for whoever sees the application)",
            "description": "Seed 002 附件2: the table as 附件2 lays it out, the fields it has no row for after section "
            "二, the blocks for seal and signature, then the report outline's six chapters with the seed's guidance "
            "for the applicant's kind and the applicant's text. 404 (code not_found) when the application is not "
            "visible, and when its programme prints no 附件2 (e.g. monitoring-fund): then the problem names the "
            "`programme`.",
            "responses": {"200": DOCX_RESPONSE, **problem_responses(401, 404)},
        },
    },
}
SCHEMAS: dict[str, Any] = {}
