"""The archive area: binders and signed archive packages (`manage.py binder …`, `archive …`), the public key."""

from __future__ import annotations

from web.archive import card, cli, pages
from web.archive.blueprints import pages as pages_blueprint
from web.core.areas import Area, Card

_ROUTES = (pages,)  # imported for the routes they add to the blueprint

AREA = Area(
    "archive",
    pages=pages_blueprint,
    commands=cli.COMMANDS,
    cards=(Card("binder", card.binder_card, position=95),),
)
