"""The archive area's pages: the public half of the key that signs packages (anyone may check one), and an
application's binder — asked for, its progress, its download."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, g, jsonify, redirect, url_for
from flask_babel import gettext
from flask_login import login_required

from applications import binder_builds
from storage import signing
from storage.multipart import content_disposition
from web.archive.blueprints import pages as bp
from web.archive.card import BinderForm, build_view
from web.core import archives
from web.core.actor import me
from web.core.extensions import blob_store
from web.core.pages import commit_reads
from workflow.db import db
from workflow.errors import NotFound

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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


@bp.post("/applications/<int:application_id>/binder")
@login_required
def binder_request(application_id: int) -> Response:
    """Ask for the binder; a worker binds it and the card shows its progress (303 back to the application)."""
    if not BinderForm(prefix="binder").validate_on_submit():
        abort(400)
    commit_reads()
    try:
        binder_builds.request(me(), application_id, request_id=g.request_id)
    except NotFound:
        abort(404)
    flash(gettext("The binder is being built; its progress shows below."), "success")
    return redirect(url_for("applications.application", application_id=application_id) + "#binder", 303)


@bp.get("/applications/<int:application_id>/binder/<int:build_id>")
@login_required
def binder_status(application_id: int, build_id: int) -> Response:
    """How far the build has got (the card polls it)."""
    try:
        build = binder_builds.visible_build(db.session, me(), application_id, build_id)
    except NotFound:
        abort(404)
    return jsonify(build_view(application_id, build))


@bp.get("/applications/<int:application_id>/binder/<int:build_id>.docx")
@login_required
def binder_download(application_id: int, build_id: int) -> Response:
    """The built binder, as an attachment; each download audited."""
    actor = me().id
    commit_reads()  # the view's read transaction ends before the audit's write (SQLite allows one writer)
    try:
        build = binder_builds.opened(actor, application_id, build_id, request_id=g.request_id)
    except NotFound:
        abort(404)
    assert build.blob_key is not None  # opened serves only a built binder
    response = Response(blob_store(current_app).open(build.blob_key), mimetype=DOCX, direct_passthrough=True)
    response.content_length = build.size
    response.headers["Content-Disposition"] = content_disposition(f"申报材料-{application_id}.docx")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
