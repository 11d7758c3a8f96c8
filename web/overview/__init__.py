"""The overview area: the commission's dashboard (page, SVG pictures, `GET /overview`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.core.areas import Area, NavLink, openapi_parts
from web.overview import api, figures, openapi, pages, rounds
from web.overview.blueprints import api as api_blueprint
from web.overview.blueprints import pages as pages_blueprint

_ROUTES = (api, pages, rounds)  # imported for the routes they add to the blueprints

AREA = Area(
    "overview",
    pages=pages_blueprint,
    api=api_blueprint,
    **openapi_parts(openapi),
    nav=(NavLink("overview_pages.dashboard", _l("Overview"), figures.may_read, position=80),),
)
