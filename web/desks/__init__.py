"""The desks area: district pre-review, the municipal completeness check and supplements (pages and API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from review import queues
from web.core.areas import Area, Card, NavLink, openapi_parts
from web.desks import api, openapi, pages
from web.desks.blueprints import api as api_blueprint
from web.desks.blueprints import pages as pages_blueprint

_ROUTES = (api, pages)  # imported for the routes they add to the area's blueprints

CARDS = (
    Card("prereview", pages.prereview_card, position=20),
    Card("completeness", pages.completeness_card, position=30),
)
MENU = (NavLink("desks.desk", _l("Review desk"), lambda user: user.role in queues.DESKS, position=10, landing=10),)

AREA = Area("desks", pages_blueprint, api_blueprint, **openapi_parts(openapi), cards=CARDS, nav=MENU)
