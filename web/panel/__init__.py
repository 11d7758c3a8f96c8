"""The panel area: the expert pool, the draw, declarations, the visit, the checklist, photos, consensus, the record."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.core.areas import Area, Card, NavLink, openapi_parts
from web.panel import (
    api,
    api_checklist,
    checklist,
    cli,
    consensus,
    exports,
    openapi,
    openapi_checklist,
    openapi_record,
    pages,
    pool,
    record,
)
from web.panel.blueprints import api as api_blueprint
from web.panel.blueprints import pages as pages_blueprint

# Imported for the routes they add to the blueprints.
_ROUTES = (api, api_checklist, checklist, exports, pages, pool, record)

CARDS = (
    Card("panel", pages.panel_card, position=40),
    Card("scoring", checklist.scoring_context, position=50),
    Card("consensus", consensus.consensus_card, position=60),
    Card("verification_record", record.record_card, position=70),
)
MENU = (
    NavLink(
        "panel.assignments", _l("My panel assignments"), lambda user: user.role == "expert", position=30, landing=5
    ),
    NavLink("panel.experts", _l("Expert pool"), lambda user: user.role in pool.POOL_KEEPERS, position=40),
)

AREA = Area(
    "panel",
    pages_blueprint,
    api_blueprint,
    **openapi_parts(openapi, openapi_checklist, openapi_record),
    commands=cli.COMMANDS,
    cards=CARDS,
    nav=MENU,
)
