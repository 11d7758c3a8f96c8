"""The inbox area: each reader's notifications (page, API, the unread count in every page's header), their mail
settings, the administrator's template previews and failed deliveries, and `manage.py notifications`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.core.areas import Area, NavLink, openapi_parts
from web.inbox import admin, api, cli, openapi, pages
from web.inbox.blueprints import api as api_blueprint
from web.inbox.blueprints import pages as pages_blueprint

_ROUTES = (admin, api, pages)  # imported for the routes they add to the blueprints

AREA = Area(
    "inbox",
    pages=pages_blueprint,
    api=api_blueprint,
    **openapi_parts(openapi),
    commands=cli.COMMANDS,
    nav=(NavLink("inbox_pages.templates", _l("Mail"), admin.may_administer, position=90),),
)
