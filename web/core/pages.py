"""What every page shares: the core blueprint (login, errors), language, labels, times and the security headers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Field

from meters.check_names import name_of
from web.core.actor import me
from web.core.extensions import login_manager
from web.core.page_forms import N_, LogoutForm
from workflow.accounts import User
from workflow.beijing import beijing_date, beijing_time
from workflow.db import db

bp = Blueprint("pages", __name__)

# A seed's own numbering at the start of a point: 1、 or （1） or 1.
SEED_NUMBER = re.compile(r"^\s*(?:\d+[、.]|（\d+）|\(\d+\))\s*")

ROLE_LABELS = {
    "applicant": _l("Applicant"),
    "district_reviewer": _l("District authority"),
    "municipal_reviewer": _l("Municipal commission"),
    "agency_coordinator": _l("Third-party agency"),
    "expert": _l("Expert"),
    "finance_officer": _l("Finance officer"),
    "monitoring_reviewer": _l("Metering institute"),
    "market_regulator": _l("Market regulator"),
    "admin": _l("Administrator"),
    "security_admin": _l("Security administrator"),
    "auditor": _l("Auditor"),
    "system": _l("System"),
}
KIND_LABELS = {
    "enterprise": _l("Industrial enterprise"),
    "data_centre": _l("Data centre"),
    "park": _l("Park"),
}
# Buttons for decisions that stop or send back an application look different from those that move it on.
CAUTION_TRIGGERS = {"reject", "withdraw", "return_for_correction", "conclude_fail", "send_back"}
LOGIN_MESSAGE = N_("Please log in to see this page.")


@bp.record_once
def _configure_login(_state: Any) -> None:
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext


# --- helpers ------------------------------------------------------------------------------------------------------


def lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def role_label(role: str | None) -> str:
    return str(ROLE_LABELS.get(role or "", role or ""))


def kind_label(kind: str | None) -> str:
    return str(KIND_LABELS.get(kind or "", kind or ""))


def check_name(code: str) -> str:
    """An evidence check by its name in the reader's language (the code stays the data's key)."""
    return name_of(code, lang())


def local_time(value: dt.datetime | str | None) -> str:
    """A stored (UTC) time as Beijing reads it, `2026-12-06 14:05`: every time a page shows goes through here."""
    return beijing_time(value)


def local_date(value: dt.date | dt.datetime | str | None) -> str:
    """A day as pages show it, `2026-12-06` (a moment's day in Beijing)."""
    return beijing_date(value)


@bp.app_template_filter("local_time")
def _local_time_filter(value: dt.datetime | str | None) -> str:
    return local_time(value)


@bp.app_template_filter("local_date")
def _local_date_filter(value: dt.date | dt.datetime | str | None) -> str:
    return local_date(value)


def safe_next(target: str | None) -> str | None:
    """`next` only when it is a path on this site (never //host or a scheme: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def commit_reads() -> None:
    """End the view's read transaction before a write, so reads after it see the write (SQLite snapshots)."""
    db.session.commit()


def lang_url(target: str) -> str:
    """This page in the other language (a page answering a POST links to where the form came from)."""
    if request.method == "GET" and request.endpoint and request.endpoint != "static":
        args = {**request.args.to_dict(), "lang": target}
        return url_for(request.endpoint, **(request.view_args or {}), **args)
    return url_for("applications.applications", lang=target)


@bp.before_app_request
def _remember_language() -> None:
    # The locale is chosen lazily, when something is translated; a ?lang= on a page that only
    # redirects would be forgotten. Choosing it now makes select_locale remember it in the session.
    if "lang" in request.args:
        get_locale()


# Pages load only this site's own script and styles (no inline code), so an injected tag cannot run.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@bp.after_app_request
def _page_security_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.app_template_filter("unnumbered")
def unnumbered(text: str) -> str:
    """A seed's point without its own leading number ("1、…"), where the page shows the point's id beside it."""
    return SEED_NUMBER.sub("", text or "", count=1)


@bp.app_template_test("hidden_input")
def is_hidden_input(field: Field) -> bool:
    return getattr(field.widget, "input_type", None) == "hidden"


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "lang": lang(),
        "lang_url": lang_url,
        "role_label": role_label,
        "kind_label": kind_label,
        "local_time": local_time,
        "local_date": local_date,
        "check_name": check_name,
        "logout_form": LogoutForm(formdata=None) if current_user.is_authenticated else None,
        "nav_links": _nav_links(),
    }


def landing_url(user: User) -> str:
    """Where the reader starts: their own work (a desk, panel tasks, their applications), as the areas declare."""
    links = [link for link in current_app.extensions["shell"].nav if link.landing is not None and link.shown(user)]
    if not links:
        return url_for("pages.index")
    return url_for(min(links, key=lambda link: link.landing).endpoint)


def _nav_links() -> list[dict[str, str]]:
    """The menu: each area's links the reader may follow, in the areas' explicit positions."""
    if not current_user.is_authenticated:
        return []
    user = me()
    links = current_app.extensions["shell"].nav
    return [{"href": url_for(link.endpoint), "label": str(link.label)} for link in links if link.shown(user)]


# Shown by the error pages (web.core.errors) and by an upload whose form expired (web.applications.attachments).
CSRF_TEXTS = (
    N_("Form expired"),
    N_("The form has expired or did not come from this site. Go back, reload the page and try again."),
)
