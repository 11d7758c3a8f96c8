"""The archive area's page: the public half of the key that signs archive packages (anyone may check one)."""

from __future__ import annotations

from flask import Response, current_app

from storage import signing
from web.archive.blueprints import pages as bp
from web.core import archives


@bp.get("/archive/public-key")
def public_key() -> Response:
    """The signing key's public half (PEM), with its algorithm and fingerprint in headers: no login needed."""
    pem = archives.public_pem(current_app)
    response = Response(pem, mimetype="application/x-pem-file")
    response.headers["X-Signing-Algorithm"] = archives.signer(current_app).algorithm
    response.headers["X-Key-Fingerprint"] = signing.fingerprint(pem)
    response.headers["Content-Disposition"] = "attachment; filename=archive-signing-key.pem"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
