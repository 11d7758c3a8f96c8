"""The meters area: the registry's commands, readings pushed through the API (pages follow with the evidence)."""

from __future__ import annotations

from web.core.areas import Area, openapi_parts
from web.meters import api, cli, openapi
from web.meters.blueprints import api as api_blueprint

_ROUTES = (api,)  # imported for the routes they add to the blueprint

AREA = Area("meters", api=api_blueprint, **openapi_parts(openapi), commands=cli.COMMANDS)
