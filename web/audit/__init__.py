"""The audit area (issue 16 item 4, 三员分立): the auditor reads the audit chain's events and verifies the chain;
no one else sees it (404), and nothing here changes an event."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.audit import access, api, openapi, pages
from web.audit.blueprints import api as api_blueprint
from web.audit.blueprints import pages as pages_blueprint
from web.core.areas import Area, NavLink, openapi_parts

_ROUTES = (api, pages)  # imported for the routes they add to the blueprints

AREA = Area(
    "audit",
    pages=pages_blueprint,
    api=api_blueprint,
    **openapi_parts(openapi),
    # The auditor lands on the audit's events.
    nav=(NavLink("audit_pages.events", _l("Audit"), access.may_read, position=85, landing=40),),
)
