"""Login (sessions for pages, bearer tokens for the API), rate limits, CSRF, locale, request ids."""

from __future__ import annotations

import re
import time
import uuid

from flask import Flask, current_app, flash, g, request, session
from flask_babel import Babel, gettext
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from storage.blobs import BlobStore, from_url
from workflow.accounts import User
from workflow.db import db

_REQUEST_ID = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def client_address() -> str:
    """The client as the last trusted proxy saw it (ProxyFix sets remote_addr when PROXY_COUNT is set)."""
    return request.remote_addr or "unknown"


# Per client: slows a guesser down whatever accounts it tries. The per-account lockout is in web.core.security.
limiter = Limiter(key_func=client_address, headers_enabled=True)


def login_rate_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def open_session(user: User) -> None:
    """Bind the page session to the account's session generation and start its idle clock."""
    session["gen"] = user.session_generation
    session["seen"] = int(time.time())


def _session_lapsed(user: User) -> bool:
    """Logged out elsewhere (the generation moved on), deactivated, or idle past IDLE_TIMEOUT_MINUTES."""
    if not user.active or session.get("gen") != user.session_generation:
        return True
    seen = session.get("seen")
    idle = int(current_app.config["IDLE_TIMEOUT_MINUTES"]) * 60
    return not isinstance(seen, int) or time.time() - seen > idle


def select_locale() -> str:
    """Chinese first; English when asked for (?lang=en, remembered in the session)."""
    asked = request.args.get("lang")
    if asked in ("zh", "en"):
        session["lang"] = asked
        return asked
    return session.get("lang") or "zh"


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "pages.login"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        if user is None:
            return None
        if _session_lapsed(user):
            idle = user.active and session.get("gen") == user.session_generation
            chosen = session.get("lang")
            session.clear()
            if chosen:
                session["lang"] = chosen
            if idle:
                flash(gettext("You were logged out after a period without activity. Please log in again."), "info")
            return None
        session["seen"] = int(time.time())
        return user

    @app.before_request
    def _request_id() -> None:
        supplied = request.headers.get("X-Request-Id", "")[:64]
        # Kept in audit events and echoed back: a client's id is used only if it is printable ASCII (a NUL gave 500).
        g.request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex

    @app.after_request
    def _headers(response):  # type: ignore[no-untyped-def]
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def blob_store(app: Flask) -> BlobStore:
    """The blob backend STORAGE_URL names, connected on first use (MinIO may start after the app)."""
    store = app.extensions.get("blobs")
    if store is None:
        store = app.extensions["blobs"] = from_url(app.config["STORAGE_URL"])
    return store
