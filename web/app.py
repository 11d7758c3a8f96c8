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

from web.core import config as config_module
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

    from web.core.tasks import celery_init_app

    celery_init_app(app)
    from web.core import notices

    notices.init_app(app)

    from web.core import extensions, input_guard

    extensions.init_app(app)
    input_guard.init_app(app)
    transport_security(app)
    register_shell(app)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.session.remove()

    return app


def register_shell(app: Flask) -> None:
    """The core's pages, API and commands, then each configured area's (web/core/areas.py)."""
    from web.core import cli, errors, login, openapi, tokens  # noqa: F401  (errors and login add pages routes)
    from web.core.api import api_blueprint
    from web.core.areas import load
    from web.core.pages import bp as core_pages

    shell = load(app.config["SHELL_AREAS"])
    app.extensions["shell"] = shell
    app.register_blueprint(core_pages)
    for area in shell.areas:
        if area.pages is not None:
            app.register_blueprint(area.pages)
    area_apis = [area.api for area in shell.areas if area.api is not None]
    app.register_blueprint(api_blueprint([tokens.bp, openapi.bp, *area_apis]))
    cli.register(app, [command for area in shell.areas for command in area.commands])
