"""The attachments' part of the OpenAPI document: upload, list and download."""

from __future__ import annotations

from typing import Any

from applications.models import CATEGORIES
from storage.sniff import ALLOWED
from web.core.openapi import (
    INT,
    PATH_ID,
    STR,
    STRS,
    TIME,
    Schema,
    nullable,
    obj,
    ok,
    problem_responses,
    ref,
)

SCHEMAS: dict[str, Schema] = {
    "Attachment": {
        **obj(
            {
                "id": INT,
                "application_id": INT,
                "category": {"enum": list(CATEGORIES)},
                "category_label": ref("Label"),
                "filename": {
                    "type": "string",
                    "description": "the uploaded name, cleaned; the extension fits the bytes",
                },
                "content_type": {"type": "string", "description": "decided from the bytes, not from the name"},
                "size": INT,
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "version": {"type": "integer", "minimum": 1, "description": "1, 2, … per application and category"},
                "current": {"type": "boolean", "description": "false once a newer version of the category arrived"},
                "uploaded_by": nullable(STR),
                "uploaded_at": TIME,
                "download_url": STR,
            }
        ),
        "description": "One version of one uploaded document",
    },
    "AttachmentList": obj(
        {
            "items": {"type": "array", "items": ref("Attachment")},
            "required": {**STRS, "description": "categories a submission must carry (given the form as it stands)"},
            "missing": {**STRS, "description": "required categories with no current upload"},
        }
    ),
    "AttachmentUpload": obj(
        {
            "file": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "The document; its type is decided by its bytes: "
                + ", ".join(sorted({k.name.upper() for k in ALLOWED})),
            },
            "category": {"enum": list(CATEGORIES)},
        }
    ),
}

PATHS: dict[str, Any] = {
    "/applications/{application_id}/attachments": {
        "parameters": [PATH_ID],
        "get": {
            "operationId": "listAttachments",
            "summary": "The application's attachments, and the required categories still missing",
            "parameters": [
                {
                    "name": "all",
                    "in": "query",
                    "schema": {"enum": ["0", "1", "true", "false"], "default": "0"},
                    "description": "1: every version, not only the current one of each category",
                }
            ],
            "responses": {"200": ok("Attachments", ref("AttachmentList")), **problem_responses(401, 404, 422)},
        },
        "post": {
            "operationId": "uploadAttachment",
            "summary": "Upload a document (the applicant, while the form is editable or a supplement is requested)",
            "description": "Streamed to storage; refused with 413 past the size limit (MAX_UPLOAD_BYTES, 200 MB by "
            "default) and with 422 `type_not_allowed` unless the bytes are PDF, JPEG, PNG, OFD, DOCX, XLSX, CSV "
            "(UTF-8 or GB18030) or ZIP, and with 422 naming the file and the rule when what is inside breaks one (web "
            "markup at the start of a PDF or image, a formula in a CSV, an archive's unsafe path, bomb, nesting, "
            "name encoding, or an Office file's DOCTYPE or macros: storage.contents). Other bytes in a category are "
            "a new version and the old one is kept; the same bytes as the current version answer 200 with it.",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": ref("AttachmentUpload"),
                        "encoding": {"file": {"contentType": "application/octet-stream"}},
                    }
                },
            },
            "responses": {
                "200": ok(
                    "Unchanged: the same bytes are already the current version, which is returned",
                    ref("Attachment"),
                    {"Location": {"description": "The download URL", "schema": STR}},
                ),
                "201": ok(
                    "Stored",
                    ref("Attachment"),
                    {"Location": {"description": "The download URL", "schema": STR}},
                ),
                **problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
            },
        },
    },
    "/attachments/{attachment_id}/download": {
        "parameters": [{"name": "attachment_id", "in": "path", "required": True, "schema": INT}],
        "get": {
            "operationId": "downloadAttachment",
            "summary": "The stored bytes, as a download (only for those who may see the application)",
            "responses": {
                "200": {
                    "description": "The document, with the content type decided at upload",
                    "headers": {
                        "Content-Disposition": {
                            "description": "Always attachment; filename*=UTF-8''… (RFC 5987)",
                            "schema": STR,
                        },
                        "X-Content-Type-Options": {"schema": {"const": "nosniff"}},
                        "ETag": {"description": "The SHA-256 of the bytes", "schema": STR},
                    },
                    "content": {
                        kind.content_type: {"schema": {"type": "string", "contentMediaType": kind.content_type}}
                        for kind in ALLOWED
                    },
                },
                **problem_responses(401, 404),
            },
        },
    },
}
