"""The meters area: the registry's commands, readings pushed through the API, and the evidence pictures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.core.areas import Area, Card, NavLink, openapi_parts
from web.meters import api, card, cli, openapi, pages
from web.meters.blueprints import api as api_blueprint
from web.meters.blueprints import pages as pages_blueprint

_ROUTES = (api, pages)  # imported for the routes they add to the blueprints

AREA = Area(
    "meters",
    pages=pages_blueprint,
    api=api_blueprint,
    **openapi_parts(openapi),
    commands=cli.COMMANDS,
    cards=(Card("evidence", card.evidence_card, position=65),),
    nav=(
        NavLink(
            "meter_pages.upload_readings", _l("Meter readings"), lambda user: user.role == "applicant", position=25
        ),
    ),
)
