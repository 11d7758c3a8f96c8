"""Attachments over HTTP, for the API and the pages alike: a request body streamed in, a stored file sent out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, g, request
from werkzeug.wrappers import Response

from applications import attachments
from applications.models import Attachment
from storage import multipart
from web.core.actor import me
from web.core.extensions import blob_store
from workflow.db import db

UPLOAD_OVERHEAD = 64 * 1024  # the multipart framing, a token and the category around the file


def upload_limit() -> int:
    """The largest attachment kept (bytes)."""
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def too_large_by_header() -> bool:
    """Whether the declared length already rules the body out, before a byte is read."""
    return request.content_length is not None and request.content_length > upload_limit() + UPLOAD_OVERHEAD


def upload_from_request(actor: Any, application_id: int, boundary: str, lang: str, **options: Any) -> Attachment:
    """The request's multipart body streamed through `applications.attachments.upload`, with the app's limit."""
    limit = upload_limit()
    # This route only: every other body keeps MAX_CONTENT_LENGTH; the file itself is counted as it streams.
    request.max_content_length = limit + UPLOAD_OVERHEAD
    tmp_dir = Path(current_app.instance_path) / "uploads"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return attachments.upload(
        actor,
        application_id,
        request.stream,
        boundary.encode("latin-1"),
        blob_store(current_app),
        max_bytes=limit,
        tmp_dir=tmp_dir,
        request_id=g.request_id,
        lang=lang,
        **options,
    )


def audited_attachment(attachment_id: int, how: str) -> Attachment:
    """The attachment the caller may read, the reading (`download` or `view`) audited; NotFound as for none."""
    actor = me().id
    db.session.commit()  # the view's read transaction ends before the audit's write (SQLite allows one writer)
    return attachments.opened(actor, attachment_id, how, request_id=g.request_id)


def attachment_response(row: Attachment) -> Response:
    """The stored bytes streamed as `Content-Disposition: attachment`, with headers that stop any rendering."""
    response = Response(
        attachments.open_blob(blob_store(current_app), row), content_type=row.content_type, direct_passthrough=True
    )
    response.content_length = row.size
    response.headers["Content-Disposition"] = multipart.content_disposition(row.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it anyway, nothing in it runs.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(row.sha256)
    return response
