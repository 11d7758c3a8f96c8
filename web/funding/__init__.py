"""The funding area: the award card (the rule's arithmetic), the budget ledger page and API, `manage.py budget`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.core.areas import Area, Card, NavLink, openapi_parts
from web.funding import api, card, cli, exports, ledger, openapi, pages
from web.funding.blueprints import api as api_blueprint
from web.funding.blueprints import pages as pages_blueprint

_ROUTES = (api, exports, pages)  # imported for the routes they add to the blueprints

AREA = Area(
    "funding",
    pages=pages_blueprint,
    api=api_blueprint,
    **openapi_parts(openapi),
    commands=cli.COMMANDS,
    cards=(Card("award", card.award_card, position=75),),
    nav=(NavLink("funding_pages.budget_ledger", _l("Budgets"), ledger.may_read, position=70),),
)
