"""One way to send a stored attachment, for the API and the pages alike: always a download, never rendered."""

from __future__ import annotations

from flask import current_app
from werkzeug.wrappers import Response

from storage import attachments
from storage.models import Attachment
from web.app import blob_store


def attachment_response(row: Attachment) -> Response:
    """The stored bytes streamed as `Content-Disposition: attachment`, with headers that stop any rendering."""
    response = Response(
        attachments.open_blob(blob_store(current_app), row), content_type=row.content_type, direct_passthrough=True
    )
    response.content_length = row.size
    response.headers["Content-Disposition"] = attachments.content_disposition(row.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it anyway, nothing in it runs.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(row.sha256)
    return response
