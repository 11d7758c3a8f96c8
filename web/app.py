"""The application factory."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from storage.blobs import BlobStore, from_url
from web import config as config_module
from workflow import audit, definitions, registry, workdays
from workflow.db import db

log = logging.getLogger(__name__)


def load_plugins(names: list[str]) -> None:
    """Import the stage packages that register guards, effects and subscribers; check none is missing."""
    for name in names:
        importlib.import_module(name)
    for definition in definitions.shipped():
        missing = registry.missing(definition)
        if missing:
            raise RuntimeError(f"{definition.label} uses unregistered names: {', '.join(missing)}")


def blob_store(app: Flask) -> BlobStore:
    """The blob backend STORAGE_URL names, connected on first use (MinIO may start after the app)."""
    store = app.extensions.get("blobs")
    if store is None:
        store = app.extensions["blobs"] = from_url(app.config["STORAGE_URL"])
    return store


def private_sqlite_file(url: str) -> None:
    """The embedded database file is created readable by its owner only (it holds every application)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)


def transport_security(app: Flask) -> None:
    """ProxyFix for the trusted proxies, HSTS behind TLS, and no caching of pages or API answers with case data."""
    proxies = int(app.config["PROXY_COUNT"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    hsts = int(app.config["HSTS_SECONDS"])

    @app.after_request
    def _no_store(response: Response) -> Response:
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        # Only static files may be cached: every page and API answer may carry an application's data. A view that
        # chose its own policy (the service worker, a photo on the tablet) keeps it.
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = config_module.from_environment()
    if test_config:
        settings.update(test_config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    private_sqlite_file(app.config["DATABASE_URL"])

    db.configure(app.config["DATABASE_URL"])
    workdays.configure(app.config["WORKING_DAY_HOLIDAYS"], app.config["WORKING_WEEKENDS"])
    audit.configure(app.config["AUDIT_KEYS"], int(app.config["AUDIT_LEGACY_THROUGH"]))
    load_plugins(app.config["WORKFLOW_PLUGINS"])
    from review import funding

    funding.configure(app.config["AWARD_CEILING_YUAN"])

    from web.tasks import celery_init_app

    celery_init_app(app)

    from web import extensions

    extensions.init_app(app)
    from web import input_guard

    input_guard.init_app(app)
    transport_security(app)

    # Modules that add routes to the blueprints below: the form page, attachments, revisions (API, read marker),
    # the applicant's documents.
    from web import (  # noqa: F401
        api_auth,
        api_checklist,
        api_panel,
        api_revisions,
        attachment_pages,
        checklist_pages,
        consensus_pages,
        desk_pages,
        document_pages,
        error_pages,
        form_page,
        history_view,
        login_pages,
        panel_pages,
        record_pages,
        revision_pages,
    )
    from web.api import bp as api_bp
    from web.pages import bp as pages_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.session.remove()

    from web.cli import register

    register(app)
    return app
